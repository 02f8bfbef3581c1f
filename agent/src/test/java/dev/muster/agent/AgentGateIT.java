package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The default path, in real JVMs: the main gate, its failures, the kill switch and the trampoline. */
class AgentGateIT {
    private static final String HELLO = "dev.muster.agent.apps.Hello";

    /** A task of a simulated two-task step (what {@code muster local} sets), with a private sync directory. */
    private static Jvm task(String java, String job, int rank, Path sync) {
        return Jvm.task(java, job, rank, 2, sync);
    }

    private static Path privateDir() throws Exception {
        return Files.createTempDirectory("muster-agent-it"); // 0700
    }

    @ParameterizedTest
    @ValueSource(strings = {Jvm.JAVA17, Jvm.JAVA25})
    void gate_holdsMainUntilTheLastTaskArrives(String java) throws Exception {
        Path sync = privateDir();
        String job = "gate-" + UUID.randomUUID();
        Jvm first = task(java, job, 0, sync).agent("").main(HELLO).start();
        // the second task starts late, as on a slow node: only once rank 0 has arrived and waits at the gate
        Jvm.awaitArrival(sync, 0, 60, first);
        long lateStart = System.currentTimeMillis();
        Jvm second = task(java, job, 1, sync).agent("").main(HELLO).start();
        assertEquals(0, first.await(60), first::toString);
        assertEquals(0, second.await(60), second::toString);
        assertTrue(first.mainStarted() >= lateStart, () -> "rank 0's main ran before rank 1 started: " + first);
        assertEquals("", first.err(), first::toString);
        assertEquals("", second.err(), second::toString);
    }

    /**
     * {@code trace=FILE} (MUSTER_TRACE), as {@code muster run --trace}: one line per task with its arrival and
     * release times, the release after the last arrival, and main started after the release.
     */
    @Test
    void trace_recordsEachTasksArrivalAndRelease_beforeMain() throws Exception {
        Path sync = privateDir();
        Path trace = sync.resolve("trace");
        String job = "trace-" + UUID.randomUUID();
        Jvm first = task(Jvm.JAVA25, job, 0, sync)
                .agent("trace=" + trace)
                .main(HELLO)
                .start();
        Jvm.awaitArrival(sync, 0, 60, first);
        Jvm second = task(Jvm.JAVA25, job, 1, sync)
                .env("MUSTER_TRACE", trace.toString())
                .agent("")
                .main(HELLO)
                .start();
        assertEquals(0, first.await(60), first::toString);
        assertEquals(0, second.await(60), second::toString);
        List<String> lines = Files.readAllLines(trace);
        assertEquals(2, lines.size(), () -> "one line per task: " + lines);
        long lastArrival = 0;
        long lastRelease = 0;
        for (int rank = 0; rank < 2; rank++) {
            String prefix = "rank=" + rank + " ";
            String line =
                    lines.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                            "rank=\\d+ size=2 .*arrive_us=(\\d{16}) release_us=(\\d{16}) via=(tcp|file)")
                    .matcher(line);
            assertTrue(m.matches(), line);
            lastArrival = Math.max(lastArrival, Long.parseLong(m.group(1)));
            lastRelease = Math.max(lastRelease, Long.parseLong(m.group(2)));
        }
        assertTrue(lastRelease >= lastArrival, "released after the last arrival: " + lines);
        assertTrue(first.mainStarted() * 1000 >= lastRelease - 1000, "main after the release: " + lines + " " + first);
    }

    /** SIGTERM while main waits at the gate: 143 (128 + 15) and one line; main never runs. */
    @Test
    void termDuringTheGate_exits143_beforeMain() throws Exception {
        Path sync = privateDir();
        Jvm alone = task(Jvm.JAVA25, "term-" + UUID.randomUUID(), 0, sync)
                .agent("timeout=600s")
                .main(HELLO)
                .start();
        Jvm.awaitArrival(sync, 0, 60, alone);
        alone.process().destroy(); // SIGTERM
        assertEquals(143, alone.await(60), alone::toString);
        assertFalse(alone.out().contains("main "), alone::toString);
        assertEquals(1, alone.err().lines().count(), alone::toString);
        assertTrue(alone.err().startsWith("muster[0] "), alone::toString);
    }

    /**
     * A peer that dies after it connected over TCP, without an exit code of its own (SIGKILL): the waiting rank 0
     * aborts naming it with 76, long before its 600 s timeout; main never runs.
     */
    @Test
    void peerKilledAfterConnecting_exits76_namingIt() throws Exception {
        Path sync = privateDir();
        String job = "peer-" + UUID.randomUUID();
        Jvm zero = Jvm.task(Jvm.JAVA25, job, 0, 3, sync)
                .agent("timeout=600s")
                .main(HELLO)
                .start();
        Jvm.awaitFile(sync, "endpoint", 60, zero); // rank 0 listens and has published where
        Jvm one = Jvm.task(Jvm.JAVA25, job, 1, 3, sync)
                .agent("timeout=600s")
                .main(HELLO)
                .start();
        Jvm.awaitArrival(sync, 1, 60, one); // its arrival file follows its TCP hello
        one.process().destroyForcibly(); // SIGKILL
        assertEquals(76, zero.await(60), zero::toString);
        assertFalse(zero.out().contains("main "), zero::toString);
        assertTrue(zero.err().startsWith("muster[0] ") && zero.err().contains("rank 1"), zero::toString);
        one.await(30);
    }

    /** The agent's identity and directory refusals: rank >= size is 78, a sync directory others may write 77. */
    @Test
    void unclearIdentity_exits78_andUnsafeSyncDir_exits77_beforeMain() throws Exception {
        Jvm rankTooHigh = task(Jvm.JAVA25, "id-" + UUID.randomUUID(), 2, privateDir())
                .agent("")
                .main(HELLO);
        assertEquals(78, rankTooHigh.run(60), rankTooHigh::toString);
        assertFalse(rankTooHigh.out().contains("main "), rankTooHigh::toString);
        assertEquals(1, rankTooHigh.err().lines().count(), rankTooHigh::toString);

        Path open = privateDir();
        Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Jvm unsafe =
                task(Jvm.JAVA17, "dir-" + UUID.randomUUID(), 0, open).agent("").main(HELLO);
        assertEquals(77, unsafe.run(60), unsafe::toString);
        assertFalse(unsafe.out().contains("main "), unsafe::toString);
        assertEquals(1, unsafe.err().lines().count(), unsafe::toString);
        assertTrue(unsafe.err().contains(open.toString()), unsafe::toString);
    }

    @Test
    void timeout_exitsWithTheBarrierCode_andOneLine() throws Exception {
        Jvm alone = task(Jvm.JAVA25, "timeout-" + UUID.randomUUID(), 0, privateDir())
                .agent("timeout=1s")
                .main(HELLO);
        assertEquals(75, alone.run(60), alone::toString);
        assertFalse(alone.out().contains("main "), alone::toString);
        assertEquals(1, alone.err().lines().count(), alone::toString);
        assertTrue(alone.err().startsWith("muster[0] error: "), alone::toString);
    }

    @Test
    void timeout_withOnfailureContinue_runsMain() throws Exception {
        Jvm alone = task(Jvm.JAVA25, "cont-" + UUID.randomUUID(), 1, privateDir())
                .agent("timeout=500ms,onfailure=continue")
                .main(HELLO);
        assertEquals(0, alone.run(60), alone::toString);
        assertTrue(alone.out().contains("main "), alone::toString);
        assertTrue(alone.err().contains("onfailure=continue"), alone::toString);
    }

    @Test
    void badOption_oneLine_exit2_beforeMain() throws Exception {
        Jvm jvm = new Jvm(Jvm.JAVA25).agent("timeout=soon").main(HELLO);
        assertEquals(2, jvm.run(30), jvm::toString);
        assertEquals(
                "muster[0] error: agent option timeout='soon' is not a positive duration; write e.g. 30s, "
                        + "500ms or 2m (a bare number is seconds)\n",
                jvm.err());
        assertFalse(jvm.out().contains("main "), jvm::toString);
    }

    @Test
    void badOption_fromEnvironment_namesTheVariable() throws Exception {
        Jvm jvm = new Jvm(Jvm.JAVA17).env("MUSTER_ARRIVE", "later").agent("").main(HELLO);
        assertEquals(2, jvm.run(30), jvm::toString);
        assertTrue(jvm.err().startsWith("muster[0] error: MUSTER_ARRIVE='later' "), jvm::toString);
        assertEquals(1, jvm.err().lines().count(), jvm::toString);
    }

    @Test
    void unknownOption_withOnfailureContinue_runsMain() throws Exception {
        Jvm jvm = new Jvm(Jvm.JAVA25).agent("colour=blue,onfailure=continue").main(HELLO);
        assertEquals(0, jvm.run(30), jvm::toString);
        assertTrue(jvm.out().contains("main "), jvm::toString);
        assertEquals(1, jvm.err().lines().count(), jvm::toString);
    }

    @Test
    void enabledFalse_noEffectAtAll() throws Exception {
        // a task of a two-task step whose peer never comes: with the agent on, main would wait 600 s
        Jvm jvm = task(Jvm.JAVA25, "off-" + UUID.randomUUID(), 1, privateDir())
                .agent("enabled=false,colour=blue")
                .main(HELLO);
        long t0 = System.nanoTime();
        assertEquals(0, jvm.run(30), jvm::toString);
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 10_000, jvm::toString);
        assertEquals("", jvm.err());
        assertTrue(jvm.out().contains("main "), jvm::toString);
    }

    @Test
    void enabledFalse_fromSystemProperty() throws Exception {
        Jvm jvm = task(Jvm.JAVA17, "offp-" + UUID.randomUUID(), 1, privateDir())
                .arg("-Dmuster.enabled=false")
                .agent("")
                .main(HELLO);
        assertEquals(0, jvm.run(30), jvm::toString);
        assertEquals("", jvm.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {Jvm.JAVA17, Jvm.JAVA25})
    void faultInsideTheAgent_applicationStillRuns(String java) throws Exception {
        Jvm jvm = new Jvm(java).arg("-D" + Agent.TEST_FAULT + "=true").agent("").main(HELLO);
        assertEquals(0, jvm.run(30), jvm::toString);
        assertTrue(jvm.out().contains("main "), jvm::toString);
        assertEquals(1, jvm.err().lines().count(), jvm::toString);
        assertTrue(jvm.err().startsWith("muster[0] error: the muster agent failed"), jvm::toString);
    }

    @Test
    void noLauncher_silent_unlessVerbose() throws Exception {
        Jvm quiet = new Jvm(Jvm.JAVA25).agent("").main(HELLO);
        assertEquals(0, quiet.run(30), quiet::toString);
        assertEquals("", quiet.err());
        Jvm verbose = new Jvm(Jvm.JAVA25).agent("verbose=true").main(HELLO);
        assertEquals(0, verbose.run(30), verbose::toString);
        assertTrue(verbose.err().contains("no barrier"), verbose::toString);
    }

    @Test
    void batchScript_noBarrier() throws Exception {
        Jvm jvm = new Jvm(Jvm.JAVA25)
                .env("SLURM_JOB_ID", "4242")
                .env("SLURM_PROCID", "0")
                .env("SLURM_NTASKS", "8")
                .agent("")
                .main(HELLO);
        assertEquals(0, jvm.run(30), jvm::toString);
        assertEquals("", jvm.err());
    }

    @Test
    void underMusterRun_sameKey_doesNotWaitAgain() throws Exception {
        String job = "nested-" + UUID.randomUUID();
        Jvm jvm = task(Jvm.JAVA25, job, 1, privateDir())
                .env("MUSTER_BARRIER_KEY", "local." + job)
                .agent("")
                .main(HELLO);
        assertEquals(0, jvm.run(30), jvm::toString);
        assertEquals("", jvm.err());
    }

    @Test
    void registerWithPortAuto_stillGatesMain() throws Exception {
        // register=NAME needs the bind advice for the port, but without arrive/await main is still the gate
        Jvm jvm = task(Jvm.JAVA25, "reg-" + UUID.randomUUID(), 1, privateDir())
                .agent("register=gated,timeout=1s,cache-dir=" + privateDir())
                .main(HELLO);
        assertEquals(75, jvm.run(30), jvm::toString);
        assertFalse(jvm.out().contains("main "), jvm::toString);
    }

    @Test
    void inheritedKeyOfAnotherStep_stillWaits() throws Exception {
        Jvm jvm = task(Jvm.JAVA25, "other-" + UUID.randomUUID(), 1, privateDir())
                .env("MUSTER_BARRIER_KEY", "local.an-earlier-step")
                .agent("timeout=1s")
                .main(HELLO);
        assertEquals(75, jvm.run(30), jvm::toString);
    }

    @Test
    void afterTheGate_termRunsTheApplicationsShutdownHooks() throws Exception {
        Path sync = privateDir();
        String job = "term-" + UUID.randomUUID();
        Jvm a = task(Jvm.JAVA25, job, 0, sync).agent("").main(HELLO, "wait").start();
        Jvm b = task(Jvm.JAVA25, job, 1, sync).agent("").main(HELLO, "wait").start();
        for (Jvm j : new Jvm[] {a, b}) {
            long end = System.currentTimeMillis() + 30_000;
            while (!j.out().contains("waiting") && System.currentTimeMillis() < end) {
                Thread.sleep(50);
            }
            j.process().destroy(); // SIGTERM
            assertEquals(143, j.await(30), j::toString);
            assertTrue(j.out().contains("hook ran"), j::toString);
        }
    }

    /**
     * The manifest's Boot-Class-Path names the jar by its own file name: as shipped, the bootstrap loader defines
     * the agent's classes; copied under another name the entry matches nothing, and the system loader loads the
     * same classes, with the same behaviour.
     */
    @ParameterizedTest
    @ValueSource(strings = {Jvm.JAVA17, Jvm.JAVA25})
    void bootClassPath_asShipped_andUnderAnotherName(String java) throws Exception {
        Jvm shipped = task(java, "boot-" + UUID.randomUUID(), 0, privateDir())
                .env("MUSTER_SIZE", "1")
                .agent("")
                .main(HELLO, "loader=dev.muster.agent.Gate");
        assertEquals(0, shipped.run(30), shipped::toString);
        assertTrue(shipped.out().contains("dev.muster.agent.Gate loader=null"), shipped::toString);
        assertEquals("", shipped.err(), shipped::toString);

        Path dir = privateDir();
        Path renamed = Files.copy(Jvm.agentJar(), dir.resolve("muster-agent-0.1.0.jar"));
        Jvm other = task(java, "boot-" + UUID.randomUUID(), 0, privateDir())
                .env("MUSTER_SIZE", "1")
                .arg("-javaagent:" + renamed)
                .main(HELLO, "loader=dev.muster.agent.Gate");
        assertEquals(0, other.run(30), other::toString);
        assertTrue(
                other.out().contains("dev.muster.agent.Gate loader=jdk.internal.loader.ClassLoaders$AppClassLoader"),
                other::toString);
        assertEquals("", other.err(), other::toString);
    }

    @Test
    void defaultPath_loadsNoByteBuddyClass() throws Exception {
        Jvm jvm = task(Jvm.JAVA25, "isolation-" + UUID.randomUUID(), 0, privateDir())
                .env("MUSTER_SIZE", "1")
                .arg("-Xlog:class+load=info:file=" + Files.createTempFile("classes", ".log"))
                .agent("")
                .main(HELLO);
        // the log file name is the last -Xlog argument: read it back from the flags
        assertEquals(0, jvm.run(30), jvm::toString);
        String log = Files.readString(Path.of(jvm.toString().split("file=")[1].split(" ")[0]));
        assertTrue(log.contains("dev.muster.agent.Gate"), "the gate ran");
        assertFalse(log.contains("shaded.bytebuddy"), "byte-buddy classes were loaded on the default path");
        assertFalse(log.contains("dev.muster.agent.bind.Instrumenter"), "Instrumenter loaded on the default path");
    }
}
