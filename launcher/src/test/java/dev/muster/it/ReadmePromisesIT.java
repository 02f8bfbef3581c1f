package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Fields;
import dev.muster.testing.Run;
import dev.muster.testing.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * README promises that need no Slurm, checked on the shipped jar in real processes ({@code muster local}, and
 * tasks whose identity is set by hand as {@code muster local} sets it): the exported variables, {@code local}'s
 * exit code, 126, {@code --dry-run}, {@code --no-barrier}, {@code barrier} in a batch script, INT and HUP while
 * waiting, and doctor's refusal.
 */
class ReadmePromisesIT {
    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    private static final Jdk JDK = Jdk.J25;

    private Run.Result muster(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(Cluster.muster(JDK));
        cmd.addAll(List.of(args));
        Map<String, String> all = new HashMap<>(Cluster.env(JDK));
        // the test's own sync root (not local's private one under /tmp), so that the harness finds whatever the
        // run left behind, the barrier's clean-up helper included, by its path
        all.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        all.putAll(env);
        return cluster.runClean(Duration.ofSeconds(60), withBasics(all), cluster.dir(), cmd);
    }

    /** A clean environment (no Slurm variables of the test's own) with what a shell needs. */
    private static Map<String, String> withBasics(Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        all.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        all.put("HOME", System.getenv().getOrDefault("HOME", "/root"));
        return all;
    }

    /**
     * {@code muster local -n 3 --torchrun-env}: every task sees MUSTER_RANK/SIZE/LOCAL_RANK/MASTER_ADDR and
     * torchrun's variables with the same values, and local exits with the highest task code (rank r exits 3 + r).
     */
    @Test
    @Timeout(90)
    void local_exportsMusterAndTorchrunVariables_andExitsWithTheHighestTaskCode() throws Exception {
        Path task = cluster.script(
                "env.sh",
                ""
                        + "echo \"env rank=$MUSTER_RANK size=$MUSTER_SIZE local=$MUSTER_LOCAL_RANK master=$MUSTER_MASTER_ADDR"
                        + " RANK=$RANK WORLD_SIZE=$WORLD_SIZE LOCAL_RANK=$LOCAL_RANK LOCAL_WORLD_SIZE=$LOCAL_WORLD_SIZE"
                        + " MASTER_ADDR=$MASTER_ADDR MASTER_PORT=$MASTER_PORT\"\n"
                        + "exit $((3 + MUSTER_RANK))");
        Run.Result r = muster(Map.of(), "local", "-n", "3", "--torchrun-env", "--", task.toString());
        assertEquals(5, r.exit(), "the highest task code (rank 2 exits 5)\n" + r.describe());
        Map<String, Map<String, String>> byRank = new TreeMap<>();
        for (Map<String, String> e : Fields.records(r.out(), "env ")) {
            byRank.put(e.get("rank"), e);
        }
        assertEquals(List.of("0", "1", "2"), List.copyOf(byRank.keySet()), r.describe());
        String master = byRank.get("0").get("master");
        assertFalse(master == null || master.isEmpty(), r.describe());
        for (Map.Entry<String, Map<String, String>> e : byRank.entrySet()) {
            Map<String, String> v = e.getValue();
            assertEquals("3", v.get("size"), r.describe());
            assertEquals(e.getKey(), v.get("local"), "one node: the local rank is the rank\n" + r.describe());
            assertEquals(master, v.get("master"), "every task gets rank 0's address\n" + r.describe());
            assertEquals(e.getKey(), v.get("RANK"), r.describe());
            assertEquals("3", v.get("WORLD_SIZE"), r.describe());
            assertEquals(e.getKey(), v.get("LOCAL_RANK"), r.describe());
            assertEquals("3", v.get("LOCAL_WORLD_SIZE"), r.describe());
            assertEquals(master, v.get("MASTER_ADDR"), r.describe());
            assertTrue(v.get("MASTER_PORT").matches("[0-9]+"), r.describe());
        }
    }

    /** Without --torchrun-env torchrun's variables stay unset. */
    @Test
    @Timeout(90)
    void local_withoutTorchrunEnv_exportsNoTorchrunVariables() throws Exception {
        Path task = cluster.script(
                "env.sh", "echo \"env rank=$MUSTER_RANK RANK=${RANK-unset} " + "MASTER_ADDR=${MASTER_ADDR-unset}\"");
        Run.Result r = muster(Map.of(), "local", "-n", "2", "--", task.toString());
        assertEquals(0, r.exit(), r.describe());
        for (Map<String, String> e : Fields.records(r.out(), "env ")) {
            assertEquals("unset", e.get("RANK"), r.describe());
            assertEquals("unset", e.get("MASTER_ADDR"), r.describe());
        }
    }

    /** A command that exists but is not executable: 126, one line naming it. */
    @Test
    @Timeout(90)
    void notExecutable_exits126_namingTheCommand() throws Exception {
        Path plain = cluster.dir().resolve("plain.sh");
        Files.writeString(plain, "#!/bin/sh\necho ran\n");
        Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-------"));
        Run.Result r = muster(Map.of(), "local", "-n", "2", "--", plain.toString());
        assertEquals(126, r.exit(), r.describe());
        assertFalse(r.out().contains("ran"), r.describe());
        assertTrue(r.err().contains(plain.toString()), r.describe());
        assertTrue(r.errLines().stream().allMatch(l -> l.startsWith("muster[")), r.describe());
    }

    /** --dry-run prints the export lines and the command and runs nothing. */
    @Test
    @Timeout(90)
    void dryRun_printsExportsAndTheCommand_runsNothing() throws Exception {
        Path marker = cluster.dir().resolve("ran");
        Run.Result r = muster(Map.of(), "local", "-n", "2", "--dry-run", "--", "touch", marker.toString());
        assertEquals(0, r.exit(), r.describe());
        assertFalse(Files.exists(marker), "nothing ran\n" + r.describe());
        assertTrue(r.out().contains("export MUSTER_RANK=0") && r.out().contains("export MUSTER_RANK=1"), r.describe());
        assertTrue(r.out().contains("touch " + marker), r.describe());
    }

    /**
     * --no-barrier: a task of a two-task step whose peer never comes runs at once instead of waiting out its
     * 600 s timeout (the run's own 60 s limit is a tenth of it).
     */
    @Test
    @Timeout(90)
    void noBarrier_runsWithoutWaitingForThePeers() {
        Map<String, String> env = new HashMap<>(Cluster.localTask("1-" + Long.toHexString(System.nanoTime()), 1, 2));
        env.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        Run.Result r = muster(env, "run", "--no-barrier", "--timeout", "600", "--", "echo", "ran alone");
        assertEquals(0, r.exit(), r.describe());
        assertTrue(r.out().contains("ran alone"), r.describe());
    }

    /** {@code barrier} in a batch script (a Slurm job, no step) refuses with 78: there is no step to meet in. */
    @Test
    @Timeout(90)
    void barrierInABatchScript_refusesWith78() {
        Run.Result r = muster(
                Map.of("SLURM_JOB_ID", "4242", "MUSTER_SYNC_DIR", cluster.sync().toString()),
                "barrier",
                "--timeout",
                "600");
        assertEquals(78, r.exit(), r.describe());
        assertEquals(1, r.errLines().size(), r.describe());
        assertTrue(r.err().startsWith("muster["), r.describe());
    }

    /**
     * INT and HUP while waiting: the signalled task exits 128 + n after writing its abort marker, and its waiting
     * peer exits with the same code, naming it.
     */
    @ParameterizedTest
    @EnumSource(Waiters.class)
    @Timeout(120)
    void intAndHup_whileWaiting_exit128PlusN_andThePeerFollows(Waiters w) throws Exception {
        w.require();
        for (String[] sig : new String[][] {{"INT", "2"}, {"HUP", "1"}}) {
            String job = "1-" + Long.toHexString(System.nanoTime());
            Process[] tasks = new Process[2];
            for (int rank = 0; rank < 2; rank++) {
                List<String> cmd = new ArrayList<>(Cluster.muster(JDK));
                cmd.addAll(List.of(
                        "run", "--timeout", "600", "--sync-dir", cluster.sync().toString(), "-v"));
                if (!w.option.isEmpty()) {
                    cmd.add(w.option);
                }
                cmd.addAll(List.of("--", "echo", "ran"));
                Map<String, String> env = new HashMap<>(Cluster.env(JDK));
                env.putAll(Cluster.localTask(job, rank, 3));
                tasks[rank] = cluster.start(env, cmd, sig[0] + "." + rank);
            }
            // both wait (rank 2 never comes): their arrival files are there
            Awaitility.await("ranks 0 and 1 waiting")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> arrived(cluster.sync(), 0)
                            && arrived(cluster.sync(), 1)
                            // the waiter's case: the signal must reach the waiter, not the JVM before it
                            && (w == Waiters.JVM
                                    || Run.read(cluster.dir().resolve(sig[0] + ".1.err"))
                                            .contains(Waiters.CONNECTED)));
            Process killed = tasks[1];
            Run.Result kill = cluster.run(
                    Duration.ofSeconds(10), Map.of(), List.of("kill", "-" + sig[0], Long.toString(killed.pid())));
            assertEquals(0, kill.exit(), kill.describe());
            int code = 128 + Integer.parseInt(sig[1]);
            // the peer's timeout is 600 s: it ends within the test's limit only through the abort
            assertTrue(
                    killed.waitFor(60, TimeUnit.SECONDS) && tasks[0].waitFor(60, TimeUnit.SECONDS),
                    sig[0] + ": both tasks end");
            String err1 = Run.read(cluster.dir().resolve(sig[0] + ".1.err"));
            String err0 = Run.read(cluster.dir().resolve(sig[0] + ".0.err"));
            assertEquals(code, killed.exitValue(), sig[0] + " to rank 1: " + err1);
            assertEquals(code, tasks[0].exitValue(), sig[0] + ": rank 0 follows: " + err0);
            assertTrue(err0.contains("rank 1"), err0);
            assertTrue(err1.contains("error: stopped by SIG" + sig[0] + " while waiting for the barrier"), err1);
            assertTrue(w.tookIt(err1), sig[0] + ": rank 1 waited as " + w + ": " + err1);
            assertFalse(Run.read(cluster.dir().resolve(sig[0] + ".0.out")).contains("ran"), "nobody ran");
            // the aborted step's files stay for diagnosis: clear them, so that the next round's arrivals are its own
            try (var left = Files.list(cluster.sync())) {
                for (Path p : left.toList()) {
                    TestFiles.deleteTree(p);
                }
            }
        }
    }

    /** doctor refuses a sync directory others may write into: "permissions refused", exit 77. */
    @Test
    @Timeout(90)
    void doctor_refusesAnUnsafeSyncDirectory_with77() throws Exception {
        Path open = cluster.dir().resolve("open");
        Files.createDirectory(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Run.Result r = muster(Map.of(), "doctor", "--sync-dir", open.toString());
        assertEquals(77, r.exit(), r.describe());
        assertTrue(r.out().contains("sync_dir.permissions refused"), r.describe());
        assertTrue(r.err().contains(open.toString()), r.describe());
    }

    /**
     * --verify against a real endpoint: a record whose port nobody listens on is not handed out (69 at the
     * rendezvous deadline); once a real server listens there, the same run gets it.
     */
    @Test
    @Timeout(90)
    void verify_handsOutAnEndpointOnlyOnceItAnswers() throws Exception {
        Path cache = cluster.dir().resolve("cache");
        // the port is held by a socket that is bound but does not listen: a connection to it is refused, and no
        // other process can take the port until the real server below does
        java.net.Socket holder = new java.net.Socket();
        try {
            holder.setReuseAddress(true);
            holder.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
            int port = holder.getLocalPort();
            Run.Result reg = muster(
                    Map.of(),
                    "rendezvous",
                    "register",
                    "verified",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    Integer.toString(port),
                    "--protocol",
                    "tcp",
                    "--job-id",
                    "manual-1",
                    "--ttl-seconds",
                    "600",
                    "--cache-dir",
                    cache.toString());
            assertEquals(0, reg.exit(), reg.describe());
            String[] client = {
                "run",
                "--rendezvous",
                "verified",
                "--verify",
                "--rendezvous-timeout",
                "2",
                "--cache-dir",
                cache.toString(),
                "--",
                "sh",
                "-c",
                "echo got=$HPC_COMPOSE_RDZV_VERIFIED_PORT"
            };
            Run.Result dead = muster(Map.of(), client);
            assertEquals(69, dead.exit(), "nobody listens: not handed out\n" + dead.describe());
            assertFalse(dead.out().contains("got="), dead.describe());
            holder.close();
            try (java.net.ServerSocket server = new java.net.ServerSocket()) {
                server.setReuseAddress(true);
                server.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
                Run.Result live = muster(Map.of(), client);
                assertEquals(0, live.exit(), live.describe());
                assertTrue(live.out().contains("got=" + port), live.describe());
            }
        } finally {
            holder.close(); // again, harmlessly, when the test failed before handing the port over
        }
    }

    /**
     * The small promises of "Other commands" and "Settings": {@code --version}; {@code java -jar muster.jar ./app}
     * means {@code run -- ./app}; in a batch script (a job, no step) {@code run} is a single task without a
     * barrier; {@code MUSTER_EXEC=child} takes the Java 17 child path on Java 22+ (the program is muster's child,
     * where the exec path gives it muster's own PID).
     */
    @Test
    @Timeout(120)
    void version_shorthand_batchScriptRun_andExecChild() throws Exception {
        Run.Result version = muster(Map.of(), "--version");
        assertEquals(0, version.exit(), version.describe());
        assertTrue(version.out().matches("(?s).*[0-9]+\\.[0-9]+.*"), version.describe());

        Path app = cluster.script("app.sh", "echo \"app pid=$$ ppid=$PPID size=$MUSTER_SIZE rank=$MUSTER_RANK\"");
        Run.Result shorthand = cluster.runClean(
                Duration.ofSeconds(60),
                withBasics(Map.of()),
                cluster.dir(),
                List.of(JDK.java(), "-jar", Cluster.jar().toString(), app.toString()));
        assertEquals(0, shorthand.exit(), shorthand.describe());
        assertTrue(shorthand.out().contains("app pid="), shorthand.describe());

        Run.Result batch = muster(
                Map.of("SLURM_JOB_ID", "4242", "MUSTER_SYNC_DIR", cluster.sync().toString()),
                "run",
                "--timeout",
                "600",
                "--",
                app.toString());
        assertEquals(0, batch.exit(), batch.describe());
        assertTrue(batch.out().contains("size=1 rank=0"), "a single task, run at once\n" + batch.describe());

        // a wrapper that execs muster: under a true exec the program has the wrapper's PID, as a child its PPID
        Path wrapper = cluster.script(
                "wrapper.sh", "echo \"wrapper pid=$$\"\nexec " + Cluster.musterShell(JDK) + " run -- " + app);
        for (String mode : List.of("exec", "child")) {
            Map<String, String> env = new HashMap<>(Cluster.env(JDK));
            if (mode.equals("child")) {
                env.put("MUSTER_EXEC", "child");
            }
            Run.Result r = cluster.runClean(
                    Duration.ofSeconds(60), withBasics(env), cluster.dir(), List.of(wrapper.toString()));
            assertEquals(0, r.exit(), r.describe());
            String pid = Fields.records(r.out(), "wrapper ").get(0).get("pid");
            Map<String, String> seen = Fields.records(r.out(), "app ").get(0);
            assertEquals(pid, seen.get(mode.equals("exec") ? "pid" : "ppid"), mode + "\n" + r.describe());
        }
    }

    private static boolean arrived(Path sync, int rank) throws java.io.IOException {
        try (var w = Files.walk(sync)) {
            return w.anyMatch(p -> p.getFileName().toString().equals(Integer.toString(rank))
                    && p.getParent().getParent() != null
                    && p.getParent().getParent().getFileName().toString().equals("arrival"));
        } catch (java.io.UncheckedIOException e) {
            return false;
        }
    }
}
