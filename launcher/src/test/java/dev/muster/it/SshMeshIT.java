package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * examples/ssh-mesh/ssh-mesh.sh, verbatim, on the local Slurm: 8 tasks on 4 nodes each start an sshd (Debian's
 * openssh-server, as the user, on loopback ports), rank 3 starts 2 s late, and rank 0 runs a command on every other
 * task over ssh once, without retrying.
 */
class SshMeshIT {
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final Path EXAMPLE = Cluster.root().resolve("examples/ssh-mesh/ssh-mesh.sh");

    @RegisterExtension
    final Cluster cluster = new Cluster();

    @BeforeEach
    void needsSshd() {
        if (!Files.isExecutable(SSHD)) {
            Slurm.unavailable("no " + SSHD + "; apt-get install -y openssh-server");
        }
    }

    private Map<String, String> env(Path work) {
        Map<String, String> env = new HashMap<>(Cluster.env(Cluster.Jdk.J25));
        env.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        env.put("SLURM_JOB_NAME", cluster.jobName());
        env.put("WORK_DIR", work.toString());
        env.put("MESH_DELAY_RANK", "3");
        env.put("MESH_DELAY", "2");
        return env;
    }

    @Test
    @Timeout(420)
    void withMuster_delayedRank_rankZeroReachesEveryTaskOnTheFirstTry_20of20() {
        int passed = 0;
        StringBuilder failures = new StringBuilder();
        for (int run = 0; run < 20; run++) {
            Path work = cluster.dir().resolve("mesh-" + run);
            Run.Result r = cluster.run(Duration.ofSeconds(60), env(work), List.of(EXAMPLE.toString()));
            if (r.exit() == 0 && r.out().contains("ssh-mesh: 7 of 7 reached on the first try")) {
                passed++;
            } else {
                failures.append("\n--- run ").append(run).append(": ").append(r.describe());
            }
            assertNoSshdLeft(work);
        }
        assertEquals(20, passed, "runs where rank 0 reached all 7 others on the first try" + failures);
    }

    @Test
    @Timeout(120)
    void withoutMuster_delayedRank_rankZeroFindsItsSshdNotUp() {
        Path work = cluster.dir().resolve("mesh-bare");
        Map<String, String> env = env(work);
        env.put("MESH_WITHOUT_MUSTER", "1");
        Run.Result r = cluster.run(Duration.ofSeconds(60), env, List.of(EXAMPLE.toString()));
        assertNotEquals(0, r.exit(), r.describe());
        assertTrue(r.out().contains("rank 0 -> rank 3") && r.out().contains("FAILED"), r.describe());
        assertNoSshdLeft(work);
    }

    /** sshd's command line names the run's generated configuration: nothing may carry it once srun returned. */
    private static void assertNoSshdLeft(Path work) {
        String config = work.resolve("sshd_config").toString();
        Awaitility.await("no sshd with " + config)
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .until(() ->
                        ProcessHandle.allProcesses().noneMatch(h -> cmdline(h).contains(config)));
    }

    static String cmdline(ProcessHandle h) {
        try {
            return new String(
                            Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")),
                            java.nio.charset.StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
    }
}
