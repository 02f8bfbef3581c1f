package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input to {@code muster run}, the jar run directly (no Slurm needed): one stderr line that starts
 * {@code muster[} and names the value, the documented code (2 usage, 78 identity), and nothing on disk. The task's
 * environment is simulated with {@code SLURM_*} variables; HOME and MUSTER_SYNC_DIR point into a fresh directory
 * that must stay empty.
 */
class BadInputIT {
    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    /** A Slurm task's variables, with {@code overrides} applied (a null value removes the variable). */
    private static Map<String, String> task(String... overrides) {
        Map<String, String> env = new HashMap<>(Map.of(
                "SLURM_JOB_ID",
                "4242",
                "SLURM_STEP_ID",
                "0",
                "SLURM_PROCID",
                "1",
                "SLURM_NTASKS",
                "4",
                "SLURM_LOCALID",
                "1",
                "SLURMD_NODENAME",
                "n1",
                "SLURM_CLUSTER_NAME",
                "local"));
        for (int i = 0; i + 1 < overrides.length; i += 2) {
            if (overrides[i + 1] == null) {
                env.remove(overrides[i]);
            } else {
                env.put(overrides[i], overrides[i + 1]);
            }
        }
        return env;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Jdk jdk : Jdk.values()) {
            out.add(Arguments.of(
                    jdk, "unknown flag", task(), List.of("run", "--bogus-flag", "--", "true"), 2, "--bogus-flag"));
            out.add(Arguments.of(
                    jdk, "missing command", task(), List.of("run", "--timeout", "5", "--"), 2, "missing command"));
            out.add(Arguments.of(jdk, "no -- and no command", task(), List.of("run"), 2, "missing command"));
            out.add(Arguments.of(
                    jdk,
                    "non-numeric rank",
                    task("SLURM_PROCID", "x"),
                    List.of("run", "--", "true"),
                    78,
                    "SLURM_PROCID='x'"));
            out.add(Arguments.of(
                    jdk, "non-numeric size", task("SLURM_NTASKS", "four"), List.of("run", "--", "true"), 78, "four"));
            out.add(Arguments.of(
                    jdk, "rank = size", task("SLURM_PROCID", "4"), List.of("run", "--", "true"), 78, "SLURM_PROCID=4"));
            out.add(Arguments.of(
                    jdk,
                    "rank > size",
                    task("SLURM_PROCID", "9", "SLURM_STEP_NUM_TASKS", "8"),
                    List.of("run", "--", "true"),
                    78,
                    "SLURM_PROCID=9"));
            out.add(Arguments.of(jdk, "timeout 0", task(), List.of("run", "--timeout", "0", "--", "true"), 2, "'0'"));
            out.add(Arguments.of(
                    jdk, "timeout -1", task(), List.of("run", "--timeout", "-1", "--", "true"), 2, "'-1'"));
            out.add(Arguments.of(
                    jdk, "timeout abc", task(), List.of("run", "--timeout", "abc", "--", "true"), 2, "'abc'"));
            out.add(Arguments.of(jdk, "timeout=0", task(), List.of("run", "--timeout=0", "--", "true"), 2, "'0'"));
            out.add(Arguments.of(
                    jdk,
                    "MUSTER_TIMEOUT=0",
                    task("MUSTER_TIMEOUT", "0"),
                    List.of("run", "--", "true"),
                    2,
                    "MUSTER_TIMEOUT"));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    @Timeout(30)
    void badInput_oneLineNamingTheValue_documentedCode_nothingOnDisk(
            Jdk jdk, String what, Map<String, String> task, List<String> args, int code, String named)
            throws Exception {
        Path fresh = Files.createDirectory(cluster.dir().resolve("fresh"));
        Map<String, String> env = new HashMap<>(task);
        env.put("PATH", System.getenv("PATH"));
        env.put("HOME", fresh.toString());
        env.put("MUSTER_SYNC_DIR", fresh.resolve("sync").toString());
        List<String> cmd = new ArrayList<>(List.of(
                jdk.java(),
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-XX:-UsePerfData",
                "-XX:-MaxFDLimit",
                "-jar",
                Cluster.jar().toString()));
        cmd.addAll(args);
        Run.Result r = cluster.runClean(Duration.ofSeconds(20), env, fresh, cmd);

        assertEquals(code, r.exit(), what + "\n" + r.describe());
        assertEquals("", r.out(), what + ": nothing on stdout");
        List<String> lines = r.errLines();
        assertEquals(1, lines.size(), what + ": one line\n" + r.describe());
        assertTrue(lines.get(0).startsWith("muster["), what + ": " + lines.get(0));
        assertTrue(lines.get(0).contains(named), what + ": names " + named + ": " + lines.get(0));
        try (Stream<Path> s = Files.walk(fresh)) {
            assertEquals(List.of(fresh), s.collect(Collectors.toList()), what + ": nothing created on disk");
        }
    }
}
