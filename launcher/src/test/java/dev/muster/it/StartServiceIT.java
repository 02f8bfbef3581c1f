package dev.muster.it;

import dev.muster.testing.Run;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code run --start CMD --arrive-when PROBE} under srun, on Java 25 (true exec) and Java 17 (muster stays the
 * parent): a service is stopped with the task whatever it does, and a start-up that fails aborts the step at once
 * with a line naming the command and the probe.
 */
class StartServiceIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    /** A sleep nobody else runs, so that a leftover is recognised by its command line. */
    private static String uniqueSleep() {
        return "sleep " + (100_000 + ThreadLocalRandom.current().nextInt(800_000));
    }

    private Run.Result srun(Cluster.Jdk jdk, List<String> runArgs) {
        Map<String, String> env = new HashMap<>(Cluster.env(jdk));
        env.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        List<String> cmd = new ArrayList<>(List.of("-N", "2", "-n", "2"));
        cmd.addAll(Cluster.muster(jdk));
        cmd.add("run");
        cmd.addAll(runArgs);
        return cluster.srun(Duration.ofSeconds(60), env, cmd.toArray(new String[0]));
    }

    private static void assertGone(String sleep) {
        Awaitility.await(sleep + " gone").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> ProcessHandle.allProcesses().noneMatch(h -> SshMeshIT.cmdline(h).contains(sleep)));
    }

    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void neverReady_abortsWithinTheArriveTimeout_namingProbeAndCommand_andStopsTheService(Cluster.Jdk jdk) {
        String sleep = uniqueSleep();
        Run.Result r = srun(jdk, List.of("--start", sleep, "--arrive-when", "tcp:1", "--arrive-timeout", "2",
                "--", "true"));
        assertEquals(69, r.exit(), r.describe());
        assertTrue(r.err().contains("--arrive-when tcp:1 (") && r.err().contains("did not pass within 2s; --start '"
                + sleep + "' is still running"), r.describe());
        assertTrue(r.took().compareTo(Duration.ofSeconds(30)) < 0, r.describe());
        assertGone(sleep);
    }

    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void daemonizingService_runsWithTheProgram_andIsKilledWhenTheTaskEnds(Cluster.Jdk jdk) {
        String sleep = uniqueSleep();
        // the service's first process exits at once and leaves its child to init, in a session of its own
        Run.Result r = srun(jdk, List.of("--start", "setsid " + sleep + " & exit 0", "--", "sh", "-c",
                "pgrep -f '" + sleep + "' >/dev/null && echo service-up-$MUSTER_RANK"));
        assertEquals(0, r.exit(), r.describe());
        assertTrue(r.out().contains("service-up-0") && r.out().contains("service-up-1"), r.describe());
        assertGone(sleep);
    }

    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void serviceIgnoringTerm_isKilledAfterTheGrace(Cluster.Jdk jdk) {
        String sleep = uniqueSleep();
        Run.Result r = srun(jdk, List.of("--start", "trap '' TERM; " + sleep, "--", "true"));
        assertEquals(0, r.exit(), r.describe());
        assertGone(sleep);
    }

    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void startCommandNotFound_abortsAtOnceNamingIt(Cluster.Jdk jdk) {
        Run.Result r = srun(jdk, List.of("--start", "no-such-service-cmd --port 1", "--arrive-when", "tcp:1",
                "--", "true"));
        assertEquals(127, r.exit(), r.describe());
        assertTrue(r.err().contains("--start 'no-such-service-cmd --port 1' exited with 127 (command not found) "
                + "before --arrive-when tcp:1 passed"), r.describe());
        assertTrue(r.took().compareTo(Duration.ofSeconds(30)) < 0, r.describe());
    }
}
