package dev.muster.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MUSTER_ROSTER under {@code muster local -n 3} (real tasks): the file is there for the program, holds the roster
 * of all three tasks with their published values, and is gone within seconds of the program's end. The copies of
 * tasks killed with everything of theirs (as Slurm kills a step's cgroup: program and remover loop) are removed by
 * {@code muster sweep} and by the next roster step's start on the node.
 */
class RosterFileIT {
    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    @Test
    @Timeout(60)
    void rosterFile_readableByTheProgram_goneAfterItEnds() throws Exception {
        Path d = cluster.dir();
        List<String> cmd = new ArrayList<>(Cluster.muster(Jdk.J25));
        cmd.addAll(List.of(
                "local",
                "-n",
                "3",
                "--timeout",
                "30",
                "--publish",
                "role=r$MUSTER_RANK",
                "--",
                "sh",
                "-c",
                "cp \"$MUSTER_ROSTER\" " + d + "/copy-$MUSTER_RANK.json && echo \"$MUSTER_ROSTER\" > " + d
                        + "/path-$MUSTER_RANK"));
        Run.Result r = cluster.run(Duration.ofSeconds(45), Cluster.env(Jdk.J25), cmd);
        assertEquals(0, r.exit(), r.describe());
        for (int rank = 0; rank < 3; rank++) {
            String json = Files.readString(d.resolve("copy-" + rank + ".json"));
            assertTrue(json.startsWith("{\"version\":1,\"size\":3,\"ranks\":["), json);
            assertTrue(
                    json.contains("\"values\":{\"role\":\"r$MUSTER_RANK\"}"), "a value is published verbatim\n" + json);
            Path file = Path.of(Files.readString(d.resolve("path-" + rank)).trim());
            await().atMost(Duration.ofSeconds(15))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> !Files.exists(file));
        }
    }

    @Test
    @Timeout(90)
    void rosterFiles_ofKilledTasks_removedBySweep() throws Exception {
        Path d = cluster.dir().resolve("sweep");
        List<Path> files = killedTasksFiles(d);
        List<String> cmd = new ArrayList<>(Cluster.muster(Jdk.J25));
        cmd.addAll(List.of("sweep", "--sync-dir", d.resolve("sync").toString()));
        Run.Result r = cluster.run(Duration.ofSeconds(45), env(d), cmd);
        assertEquals(0, r.exit(), r.describe());
        for (Path f : files) {
            assertTrue(r.out().contains("removed " + f), r.describe());
            assertTrue(!Files.exists(f), f + " is still there");
        }
    }

    @Test
    @Timeout(90)
    void rosterFiles_ofKilledTasks_removedByTheNextStepsStart() throws Exception {
        Path d = cluster.dir().resolve("next");
        List<Path> files = killedTasksFiles(d);
        List<String> cmd = new ArrayList<>(Cluster.muster(Jdk.J25));
        cmd.addAll(List.of("local", "-n", "1", "--timeout", "30", "--roster", "--", "true"));
        Run.Result r = cluster.run(Duration.ofSeconds(45), env(d), cmd);
        assertEquals(0, r.exit(), r.describe());
        for (Path f : files) {
            assertTrue(!Files.exists(f), f + " is still there after the next step started");
        }
    }

    /** TMPDIR and the sync directory of one test, under {@code d}. */
    private static Map<String, String> env(Path d) throws Exception {
        Files.createDirectories(d.resolve("tmp"));
        Map<String, String> env = new java.util.HashMap<>(Cluster.env(Jdk.J25));
        env.put("TMPDIR", d.resolve("tmp").toString());
        env.put("MUSTER_SYNC_DIR", d.resolve("sync").toString());
        return env;
    }

    /**
     * Two roster tasks whose programs sleep, then SIGKILL for each program and its remover loop (found by the
     * file's path on its command line), as when Slurm kills a step's cgroup. Returns their roster files, still
     * there: nothing of theirs is left to remove them.
     */
    private List<Path> killedTasksFiles(Path d) throws Exception {
        Map<String, String> env = env(d);
        List<String> cmd = new ArrayList<>(Cluster.muster(Jdk.J25));
        cmd.addAll(List.of(
                "local",
                "-n",
                "2",
                "--timeout",
                "30",
                "--roster",
                "--",
                "sh",
                "-c",
                "echo \"$MUSTER_ROSTER\" > " + d + "/path-$MUSTER_RANK.tmp && mv " + d + "/path-$MUSTER_RANK.tmp " + d
                        + "/path-$MUSTER_RANK && exec sleep 60"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.redirectOutput(d.resolve("local.out").toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process local = pb.start();
        try {
            List<Path> files = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                Path path = d.resolve("path-" + rank);
                await().atMost(Duration.ofSeconds(45))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> Files.exists(path));
                files.add(Path.of(Files.readString(path).trim()));
            }
            for (Path f : files) {
                String n = f.getFileName().toString();
                long pid = Long.parseLong(
                        n.substring(0, n.length() - ".json".length()).replaceAll(".*\\.", ""));
                // the remover loop first: it would remove the file within 2 s of the program's death
                for (ProcessHandle h : ProcessHandle.allProcesses().toList()) {
                    if (h.info()
                            .arguments()
                            .map(a -> List.of(a).contains(f.toString()))
                            .orElse(false)) {
                        h.destroyForcibly();
                    }
                }
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> ProcessHandle.of(pid).isEmpty());
            }
            assertTrue(local.waitFor(30, TimeUnit.SECONDS), "muster local still runs");
            for (Path f : files) {
                assertTrue(Files.exists(f), f + " went already: the test shows nothing");
            }
            return files;
        } finally {
            local.destroyForcibly();
        }
    }
}
