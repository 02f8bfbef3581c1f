package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import dev.muster.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What is left on disk: {@code muster sweep}, and the seed's {@code HOOK_BASE_DIR}/{@code PASSWD_FILE} layout. */
class HousekeepingIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    private static final Jdk JDK = Jdk.J25;

    /** Tasks of which rank 1 waits for {@code go} before it starts muster; muster waits up to 60 s. */
    private Path heldTask(String gate) throws IOException {
        Path g = cluster.dir().resolve(gate);
        return cluster.script(
                "task-" + gate + ".sh",
                ""
                        + "if [ $SLURM_PROCID = 1 ]; then i=0; while [ ! -e " + g
                        + " ] && [ $i -lt 600 ]; do sleep 0.05;"
                        + " i=$((i+1)); done; fi\n"
                        + "exec " + Cluster.musterShell(JDK) + " run --timeout 60 -- true");
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private Process startHeld(String gate, Map<String, String> env) throws IOException {
        return cluster.start(
                env,
                List.of(
                        "srun",
                        "--job-name",
                        cluster.jobName(),
                        "-N",
                        "2",
                        "-n",
                        "2",
                        heldTask(gate).toString()),
                "srun-" + gate);
    }

    private Map<String, String> syncEnv() {
        Map<String, String> env = new HashMap<>(Cluster.env(JDK));
        env.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        return env;
    }

    @Test
    @Timeout(90)
    void sweep_removesAKilledStepsDirectory_keepsALiveOnes() throws Exception {
        Path sync = cluster.sync();
        // a step killed with SIGKILL while rank 0 waits: its directory stays behind
        Process killed = startHeld("never", syncEnv());
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> names(sync).size() == 1
                        && Files.exists(sync.resolve(names(sync).get(0)).resolve("arrival/0/0")));
        String deadKey = names(sync).get(0);
        String deadJob = deadKey.split("\\.")[1];
        assertEquals(
                0,
                cluster.run(Duration.ofSeconds(10), Map.of(), List.of("scancel", "-s", "KILL", deadJob))
                        .exit());
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> !killed.isAlive()
                        && cluster.run(Duration.ofSeconds(10), Map.of(), List.of("squeue", "-h", "-j", deadJob))
                                .out()
                                .isBlank());
        assertTrue(Files.isDirectory(sync.resolve(deadKey)), "the killed step left " + deadKey);

        // a live step: rank 1 held back, rank 0 waiting
        Process live = startHeld("go", syncEnv());
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> names(sync).size() == 2);
        String liveKey =
                names(sync).stream().filter(n -> !n.equals(deadKey)).findFirst().orElseThrow();

        Run.Result sweep = cluster.run(
                Duration.ofSeconds(30), Cluster.env(JDK), withMuster("sweep", "--sync-dir", sync.toString()));
        assertEquals(0, sweep.exit(), sweep.describe());
        assertFalse(Files.exists(sync.resolve(deadKey)), "the killed step's directory is removed\n" + sweep.describe());
        // Fails while the local Slurm is named "local": sweep takes every key starting "local." for a
        // `muster local` key and its job id for a pid (see StepLiveness.mayRun).
        assertTrue(Files.isDirectory(sync.resolve(liveKey)), "the live step's directory is kept\n" + sweep.describe());
        assertTrue(names(sync).stream().noneMatch(n -> n.contains(".gone.")), "nothing half-removed: " + names(sync));

        Files.writeString(cluster.dir().resolve("go"), "");
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !live.isAlive());
        assertEquals(0, live.exitValue(), Run.read(cluster.dir().resolve("srun-go.err")));
    }

    /**
     * A SIGKILLed {@code muster local} cannot remove its private directory; the next one removes it: empty, named
     * after a pid that is gone, this user's. A directory that still holds something, one of a live pid, another
     * user's, and a link are left alone.
     */
    @Test
    @Timeout(60)
    void local_removesTheEmptyPrivateDirectoriesOfKilledRuns() throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long dead = 4_000_000L;
        while (ProcessHandle.of(dead).isPresent()) {
            dead--;
        }
        String tag = Long.toHexString(System.nanoTime());
        Path empty = Files.createDirectory(tmp.resolve("muster-local-" + dead + "-empty" + tag));
        Path full = Files.createDirectory(tmp.resolve("muster-local-" + dead + "-full" + tag));
        Files.writeString(full.resolve("step"), "in use");
        Path live = Files.createDirectory(
                tmp.resolve("muster-local-" + ProcessHandle.current().pid() + "-live" + tag));
        Path foreign = Files.createDirectory(tmp.resolve("muster-local-" + dead + "-foreign" + tag));
        Files.setAttribute(foreign, "unix:uid", 65534);
        Path target = Files.createDirectory(cluster.dir().resolve("target"));
        Path link = Files.createSymbolicLink(tmp.resolve("muster-local-" + dead + "-link" + tag), target);
        try {
            List<String> cmd = new ArrayList<>(Cluster.muster(JDK));
            cmd.addAll(List.of("local", "-n", "2", "--", "true"));
            Run.Result r = cluster.run(Duration.ofSeconds(40), Cluster.env(JDK), cmd);
            assertEquals(0, r.exit(), r.describe());
            assertFalse(
                    Files.exists(empty, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the killed run's empty directory");
            assertTrue(Files.exists(full.resolve("step")), "a directory still in use");
            assertTrue(Files.isDirectory(live), "a live pid's directory");
            assertTrue(Files.isDirectory(foreign), "another user's directory");
            assertTrue(Files.isSymbolicLink(link) && Files.isDirectory(target), "a link and its target");
        } finally {
            Files.deleteIfExists(link);
            Files.deleteIfExists(full.resolve("step"));
            for (Path p : List.of(empty, full, live, foreign)) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * A {@code muster local} key names its launcher by PID and start time, and sweep judges a local step by both.
     * The soak found a finished run's directory kept after sweep because its PID had been given to a later process
     * (pid_max 32768 wraps within minutes on a busy node).
     */
    @Test
    @Timeout(60)
    void sweep_removesALocalStepWhosePidNowNamesAnotherProcess() throws Exception {
        // the key as muster local makes it: the program's parent is the launcher
        List<String> cmd = new ArrayList<>(Cluster.muster(JDK));
        cmd.addAll(List.of(
                "local",
                "-n",
                "1",
                "--",
                "sh",
                "-c",
                "echo \"$MUSTER_LOCAL_JOB $PPID $(cut -d' ' -f22 /proc/$PPID/stat)\""));
        Run.Result r = cluster.run(Duration.ofSeconds(40), Cluster.env(JDK), cmd);
        assertEquals(0, r.exit(), r.describe());
        String[] seen = r.out().trim().split(" ");
        assertTrue(
                seen.length == 3 && seen[0].matches(seen[1] + "-[0-9a-f]+-" + seen[2]),
                "MUSTER_LOCAL_JOB is <launcher pid>-<hex>-<launcher start ticks>: " + r.out());

        Path sync = cluster.sync();
        long pid = ProcessHandle.current().pid(); // alive throughout, like a PID given to a later process
        String ticks = Files.readString(Path.of("/proc/self/stat"))
                .substring(Files.readString(Path.of("/proc/self/stat")).lastIndexOf(')') + 2)
                .split(" ")[19];
        String reused = "local." + pid + "-ab-" + (Long.parseLong(ticks) + 1) + ".0";
        String live = "local." + pid + "-cd-" + ticks + ".0";
        String old = "local." + pid + "-ef.0"; // a key without a start time, as before: judged by the PID alone
        for (String key : List.of(reused, live, old)) {
            Files.createDirectories(sync.resolve(key).resolve("arrival"));
        }
        Run.Result sweep = cluster.run(
                Duration.ofSeconds(30), Cluster.env(JDK), withMuster("sweep", "--sync-dir", sync.toString()));
        assertEquals(0, sweep.exit(), sweep.describe());
        assertFalse(Files.exists(sync.resolve(reused)), "the step of a PID now another process's\n" + sweep.describe());
        assertTrue(Files.isDirectory(sync.resolve(live)), "a live launcher's step\n" + sweep.describe());
        assertTrue(Files.isDirectory(sync.resolve(old)), "a key without start time, live PID\n" + sweep.describe());
    }

    @Test
    @Timeout(60)
    void sweep_followsNoSymbolicLink() throws Exception {
        Path sync = cluster.sync();
        Path outside = cluster.dir().resolve("outside");
        Files.createDirectories(outside.resolve("sub"));
        Files.writeString(outside.resolve("keep.txt"), "keep");
        Files.writeString(outside.resolve("sub/keep.txt"), "keep");
        // the step directory of a job Slurm no longer knows, with a link inside it
        String cluster0 = cluster.run(Duration.ofSeconds(10), Map.of(), List.of("scontrol", "show", "config"))
                .out()
                .lines()
                .filter(l -> l.startsWith("ClusterName"))
                .map(l -> l.substring(l.indexOf('=') + 1).trim())
                .findFirst()
                .orElse("cluster");
        Path gone = sync.resolve(cluster0 + ".987654.0.p1");
        Files.createDirectories(gone.resolve("arrival"));
        Files.writeString(gone.resolve("arrival/0"), "host=n1 pid=1\n");
        Files.createSymbolicLink(gone.resolve("arrival/link"), outside);
        Files.createSymbolicLink(gone.resolve("link-to-file"), outside.resolve("keep.txt"));
        // and links in the root itself, one named like a step of a finished job
        Files.createSymbolicLink(sync.resolve(cluster0 + ".987655.0.p1"), outside);
        Files.createSymbolicLink(sync.resolve("elsewhere"), outside);

        Run.Result sweep = cluster.run(
                Duration.ofSeconds(30), Cluster.env(JDK), withMuster("sweep", "--sync-dir", sync.toString()));
        assertEquals(0, sweep.exit(), sweep.describe());
        assertFalse(Files.exists(gone), "the finished job's step directory is removed\n" + sweep.describe());
        assertTrue(Files.isSymbolicLink(sync.resolve(cluster0 + ".987655.0.p1")), "a link in the root is left");
        assertTrue(Files.isSymbolicLink(sync.resolve("elsewhere")), "a link in the root is left");
        assertEquals(List.of("keep.txt", "sub"), names(outside), "the links' target is untouched");
        assertEquals("keep", Files.readString(outside.resolve("keep.txt")));
        assertEquals("keep", Files.readString(outside.resolve("sub/keep.txt")));
    }

    @Test
    @Timeout(60)
    void seedConfiguration_usesHookBaseDirUserFromPasswdFile() throws Exception {
        Path base = TestFiles.privateDir(cluster.dir().resolve("hooks"));
        Path passwd = cluster.dir().resolve("passwd");
        Files.writeString(
                passwd, "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" + "root:x:0:0:root:/root:/bin/bash\n");
        Map<String, String> env = new HashMap<>(Cluster.env(JDK));
        env.put("HOOK_BASE_DIR", base.toString());
        env.put("PASSWD_FILE", passwd.toString());
        // were PASSWD_FILE ignored, the user would come from USER
        env.put("USER", "not-from-passwd");
        Process srun = startHeld("go", env);

        Path root = base.resolve("root/.oci-hooks/slurm-global-sync");
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> Files.isDirectory(root)
                        && names(root).size() == 1
                        && Files.exists(root.resolve(names(root).get(0)).resolve("arrival/0/0")));
        Files.writeString(cluster.dir().resolve("go"), "");
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !srun.isAlive());
        assertEquals(0, srun.exitValue(), Run.read(cluster.dir().resolve("srun-go.err")));
        assertEquals(List.of("root"), names(base), "only <base>/<user from PASSWD_FILE>");
    }

    private static List<String> withMuster(String... args) {
        List<String> cmd = new ArrayList<>(Cluster.muster(JDK));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
