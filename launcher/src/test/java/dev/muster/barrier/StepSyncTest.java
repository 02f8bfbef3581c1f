package dev.muster.barrier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.exec.Signals;
import dev.muster.task.TaskIdentity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One task's part in a step barrier as {@code run}, {@code barrier} and the agent drive it ({@link StepSync}):
 * threads as ranks, each with its own StepSync over real files in a temporary sync directory and real sockets on
 * 127.0.0.1 ({@code launcher=local} binds rank 0 to the loopback address).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StepSyncTest {
    static final String KEY = "job7.step0";
    static final Duration LONG = Duration.ofSeconds(20);

    @TempDir
    Path root;

    final ByteArrayOutputStream log = new ByteArrayOutputStream();
    final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "rank");
        t.setDaemon(true);
        return t;
    });

    /** What one rank's {@link StepSync#await} returned or threw. */
    record Result(Outcome outcome, MusterException failure) {
        int code() {
            return failure == null ? 0 : failure.status();
        }
    }

    @BeforeEach
    void captureLog() {
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        Log.to(System.err);
        Log.level(Log.Level.NORMAL);
        Signals.restoreOriginal(Signals.CAUGHT); // await() took TERM, INT and HUP from the test JVM
        pool.shutdownNow();
    }

    static TaskIdentity id(int rank, int size) {
        return new TaskIdentity("local", rank, size, rank, size, "node" + rank, "7", "0", 0, "test", KEY, Map.of());
    }

    static BarrierSettings settings(Duration timeout) {
        return new BarrierSettings(timeout, Duration.ofMillis(20), Duration.ofMillis(5), Duration.ofSeconds(60));
    }

    StepSync sync(int rank, int size, Transport t, Duration timeout, Path trace, Map<String, String> env) {
        return new StepSync(id(rank, size), KEY, root, settings(timeout), t, trace, env);
    }

    StepSync sync(int rank, int size, Transport t) {
        return sync(rank, size, t, LONG, null, Map.of());
    }

    CompletableFuture<Result> start(StepSync s, Map<String, String> data) {
        return CompletableFuture.supplyAsync(
                () -> {
                    s.prepare();
                    try {
                        return new Result(s.await(data), null);
                    } catch (MusterException e) {
                        return new Result(null, e);
                    }
                },
                pool);
    }

    /** Joins every task and fails naming the first that did not exit 0. */
    static void assertAllSucceed(List<CompletableFuture<Result>> fs) {
        for (Result res : join(fs)) {
            assertEquals(0, res.code(), () -> String.valueOf(res.failure()));
        }
    }

    static List<Result> join(List<CompletableFuture<Result>> fs) {
        List<Result> out = new ArrayList<>();
        for (CompletableFuture<Result> f : fs) {
            out.add(f.join());
        }
        return out;
    }

    String log() {
        return log.toString(StandardCharsets.UTF_8);
    }

    FileBarrier files(int rank, int size) {
        return new FileBarrier(
                root,
                KEY,
                rank,
                size,
                "node" + rank,
                settings(LONG),
                dev.muster.core.Clock.SYSTEM,
                new java.util.Random(rank),
                null);
    }

    /** Waits until rank 0 of a TCP step listens (its endpoint is published). */
    void awaitListening(int size) {
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            TcpEndpoint e = files(size - 1, size).polls().endpoint();
            return e != null && e.listening();
        });
    }

    /**
     * Waits until rank 0's clean-up (the helper process or its thread) has removed the step directory, renamed copy
     * included: the temporary directory's own deletion would race with it.
     */
    void awaitCleanedUp() {
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                try (java.util.stream.Stream<Path> s = Files.list(root)) {
                    return s.noneMatch(f -> f.getFileName().toString().startsWith(KEY));
                }
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            try (java.util.stream.Stream<Path> s = Files.walk(root)) {
                throw new AssertionError(
                        "not cleaned up: " + s.map(Path::toString).toList(), e);
            } catch (IOException io) {
                throw new java.io.UncheckedIOException(io);
            }
        }
    }

    static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    @Test
    void key_isTheIdentitysKey_withTheBarrierNameAppended() {
        assertEquals(KEY, StepSync.key(id(0, 2), null));
        assertEquals(KEY + ".n-ckpt", StepSync.key(id(0, 2), "ckpt"));
        StepSync s = new StepSync(id(0, 2), KEY + ".n-ckpt", root, settings(LONG), Transport.FILE, null, Map.of());
        assertEquals(KEY + ".n-ckpt", s.key());
        assertEquals(root.resolve(KEY + ".n-ckpt"), s.dir());
    }

    @Test
    void release_byFiles_everyRankGetsRank0sDataEnvironmentAndRendezvous() {
        Map<String, String> data = new HashMap<>();
        data.put(Release.MASTER_ADDR, "10.0.0.1");
        Release.putEnv(data, Map.of("FOO", "bar", "NCCL_DEBUG", "INFO"));
        Release.putRendezvous(data, "store", "tcp://h0:29500", "h0", 29500, "tcp", null, "j1");
        Release.putRendezvous(data, "web", "http://h1:80/x", "h1", 80, "http", "/x", "j2");
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            fs.add(start(sync(r, 3, Transport.FILE), r == 0 ? data : Map.of()));
        }
        for (Result res : join(fs)) {
            assertEquals(0, res.code(), () -> String.valueOf(res.failure()));
            Outcome o = res.outcome();
            assertEquals(Outcome.Kind.RELEASE, o.kind());
            assertEquals("10.0.0.1", o.data().get(Release.MASTER_ADDR));
            assertEquals(Map.of("FOO", "bar", "NCCL_DEBUG", "INFO"), Release.env(o.data()));
            assertEquals("tcp://h0:29500", Release.rendezvous(o.data(), "store", "url"));
            assertEquals("h0", Release.rendezvous(o.data(), "store", "host"));
            assertEquals("29500", Release.rendezvous(o.data(), "store", "port"));
            assertEquals("tcp", Release.rendezvous(o.data(), "store", "protocol"));
            assertEquals("", Release.rendezvous(o.data(), "store", "path"));
            assertEquals("j1", Release.rendezvous(o.data(), "store", "job_id"));
            assertEquals("/x", Release.rendezvous(o.data(), "web", "path"));
            assertNull(Release.rendezvous(o.data(), "absent", "url"));
        }
        awaitCleanedUp();
    }

    @Test
    void release_overTcp_isLearnedByTcp_andEachRankAppendsItsTraceLine() throws IOException {
        Path trace = root.resolve("trace.txt");
        Instant before = Instant.now();
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        fs.add(start(sync(0, 3, Transport.TCP, LONG, trace, Map.of()), Map.of(Release.MASTER_ADDR, "n0")));
        awaitListening(3);
        fs.add(start(sync(1, 3, Transport.TCP, LONG, trace, Map.of()), Map.of()));
        fs.add(start(sync(2, 3, Transport.TCP, LONG, trace, Map.of()), Map.of()));
        for (Result res : join(fs)) {
            assertEquals(0, res.code(), () -> String.valueOf(res.failure()));
            assertEquals("n0", res.outcome().data().get(Release.MASTER_ADDR));
        }
        Instant after = Instant.now();
        List<String> lines = Files.readAllLines(trace);
        assertEquals(3, lines.size(), lines::toString);
        Pattern p = Pattern.compile("rank=(\\d) size=3 node=node(\\d) pid=" + Posix.pid()
                + " arrive_us=(\\d+) release_us=(\\d+) via=(\\w+)");
        boolean[] seen = new boolean[3];
        for (String line : lines) {
            Matcher m = p.matcher(line);
            assertTrue(m.matches(), line);
            int rank = Integer.parseInt(m.group(1));
            assertEquals(m.group(1), m.group(2), line);
            seen[rank] = true;
            long arrive = Long.parseLong(m.group(3));
            long release = Long.parseLong(m.group(4));
            assertTrue(micros(before) <= arrive && arrive <= release && release <= micros(after), line);
            assertEquals("tcp", m.group(5), line);
        }
        assertTrue(seen[0] && seen[1] && seen[2], lines::toString);
        awaitCleanedUp();
    }

    @Test
    void oneTaskStep_neverListens_evenWithAnUnusableBindAddress_andLogsItsRelease() {
        Log.level(Log.Level.VERBOSE);
        // TEST-NET-1 is no address of this machine: a rank 0 that listened would warn that it cannot
        Transport tcp = new Transport(Transport.Mode.TCP, "192.0.2.1");
        StepSync s = new StepSync(id(0, 1), KEY, root, settings(LONG), tcp, null, Map.of()).lastDepartureCleans();
        Result res = start(s, Map.of()).join();
        assertEquals(0, res.code(), () -> String.valueOf(res.failure()));
        assertFalse(log().contains("warning"), log());
        assertFalse(log().contains("listening"), log());
        // the prefix is global (Log.rank); a test must not set it: later tests of the JVM expect muster[-]
        assertTrue(log().contains(Log.prefix() + "released (file)\n"), log());
    }

    @Test
    void rank0CannotListenOnItsBindAddress_warnsNamingTheFlag_andTheStepIsReleasedByFiles() {
        Transport tcp = new Transport(Transport.Mode.TCP, "192.0.2.1");
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        fs.add(start(new StepSync(id(0, 2), KEY, root, settings(LONG), tcp, null, Map.of()), Map.of()));
        // rank 1 arrives after the warning: arrived before, it could complete the step by files before rank 0's
        // listener thread ran, and this test would end before there was anything to say
        await().atMost(Duration.ofSeconds(10)).until(() -> log().contains("cannot listen"));
        fs.add(start(sync(1, 2, Transport.TCP), Map.of()));
        assertAllSucceed(fs);
        assertTrue(log().contains("cannot listen for the TCP release on --bind-address 192.0.2.1"), log());
        awaitCleanedUp();
    }

    @Test
    void transportFromTheEnvironment_muster_tcp0_waitsByFilesOnly() throws IOException {
        Path trace = root.resolve("trace.txt");
        Map<String, String> env = Map.of("MUSTER_TCP", "0");
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            fs.add(start(new StepSync(id(r, 2), KEY, root, settings(LONG), trace, env), Map.of()));
        }
        assertAllSucceed(fs);
        for (String line : Files.readAllLines(trace)) {
            assertTrue(line.endsWith(" via=file"), line);
        }
        awaitCleanedUp();
    }

    @Test
    void timeout_failsEveryArrivedRankWith75_namingTheMissingRankAndItsSlurmNode() {
        Map<String, String> env = Map.of("SLURM_STEP_NODELIST", "n[0-2]", "SLURM_STEP_TASKS_PER_NODE", "1(x3)");
        Duration timeout = Duration.ofMillis(300);
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            fs.add(start(sync(r, 3, Transport.FILE, timeout, null, env), Map.of()));
        }
        for (Result res : join(fs)) {
            assertEquals(ExitCodes.TIMEOUT, res.code(), () -> String.valueOf(res.outcome()));
            assertEquals(
                    "barrier timed out after 0.300 s: 2/3 arrived, missing rank 2 (expected on n2); check that"
                            + " every task starts muster (or raise --timeout)",
                    res.failure().getMessage());
        }
    }

    @Test
    void interruptedWhileWaiting_isAnInternalError_andTheThreadStaysInterrupted() throws Exception {
        StepSync zero = sync(0, 2, Transport.FILE).lastDepartureCleans(); // no helper process left waiting
        zero.prepare();
        CompletableFuture<MusterException> failure = new CompletableFuture<>();
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                zero.await(Map.of());
                failure.complete(null);
            } catch (MusterException e) {
                failure.complete(e);
            }
            interrupted.complete(Thread.currentThread().isInterrupted());
        });
        t.setDaemon(true);
        t.start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Files.exists(files(0, 2).files().arrivalFile(0)));
        t.interrupt(); // a sleep of the wait, or the next one, ends with it
        MusterException e = failure.get(10, TimeUnit.SECONDS);
        assertNotNull(e, "an interrupted wait is no release");
        assertEquals(ExitCodes.INTERNAL, e.status());
        assertTrue(e.getMessage().contains("interrupted while waiting"), e.getMessage());
        assertTrue(interrupted.get(10, TimeUnit.SECONDS), "the interrupt is kept for the caller");
    }

    @Test
    void abort_beforeTheWait_failsTheOthersWithItsCodeAndReason() {
        StepSync one = sync(1, 3, Transport.FILE);
        one.prepare();
        one.abort(3, "cannot start ./a.out");
        List<CompletableFuture<Result>> fs =
                List.of(start(sync(0, 3, Transport.FILE), Map.of()), start(sync(2, 3, Transport.FILE), Map.of()));
        for (Result res : join(fs)) {
            assertEquals(3, res.code());
            assertEquals(
                    "rank 1 aborted the barrier: cannot start ./a.out (exit 3)",
                    res.failure().getMessage());
        }
    }

    @Test
    void abort_whileOthersWaitOverTcp_reachesThemWithPeerAbort76_whenItHasNoCode() {
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        fs.add(start(sync(0, 3, Transport.TCP), Map.of()));
        awaitListening(3);
        fs.add(start(sync(2, 3, Transport.TCP), Map.of()));
        StepSync one = sync(1, 3, Transport.TCP);
        one.prepare();
        one.abort(0, "its hook was killed");
        for (Result res : join(fs)) {
            assertEquals(ExitCodes.PEER_ABORTED, res.code());
            assertEquals(
                    "rank 1 aborted the barrier: its hook was killed (exit 76)",
                    res.failure().getMessage());
        }
    }

    @Test
    void release_rank0StartsTheCleanUpHelper_whichRemovesTheStepDirectoryAfterEveryDeparture() throws Exception {
        // rank 1 is the file protocol alone, which cleans nothing up: the helper that removes the directory is rank 0's
        CompletableFuture<Result> zero = start(sync(0, 2, Transport.FILE), Map.of());
        FileBarrier one = files(1, 2);
        one.prepare();
        one.arrive();
        assertEquals(Outcome.Kind.RELEASE, one.await(Map.of()).kind());
        one.depart();
        assertEquals(0, zero.join().code(), () -> String.valueOf(zero.join().failure()));
        awaitCleanedUp();
    }

    @Test
    void release_rank0ThatLivesOn_removesTheStepDirectoryInProcess() {
        StepSync zero = sync(0, 2, Transport.TCP).livesOn();
        List<CompletableFuture<Result>> fs = List.of(start(zero, Map.of()), start(sync(1, 2, Transport.TCP), Map.of()));
        assertAllSucceed(fs);
        awaitCleanedUp();
    }

    @Test
    void release_lastDepartureCleans_theStepDirectoryIsGoneWhenTheLastTaskReturns() {
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            fs.add(start(sync(r, 3, Transport.FILE).lastDepartureCleans(), Map.of()));
        }
        assertAllSucceed(fs);
        assertFalse(Files.exists(root.resolve(KEY)));
    }

    @Test
    void release_aFollowerDeparts_andLeavesTheStepDirectoryToRank0() throws Exception {
        FileBarrier zero = files(0, 2);
        zero.prepare();
        zero.arrive();
        CompletableFuture<Result> one = start(sync(1, 2, Transport.FILE), Map.of());
        assertEquals(Outcome.Kind.RELEASE, zero.await(Map.of()).kind());
        assertEquals(0, one.join().code(), () -> String.valueOf(one.join().failure()));
        assertTrue(Files.exists(root.resolve(KEY).resolve(StepFiles.DEPARTURE).resolve("1")));
        assertTrue(Files.isDirectory(root.resolve(KEY)));
    }

    @Test
    void card_everyRankGetsTheRosterOfAllCards() {
        List<StepSync> syncs = new ArrayList<>();
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        Map<String, String> env = Map.of("TMPDIR", root.resolve("tmp").toString());
        for (int r = 0; r < 2; r++) {
            StepSync s = sync(r, 2, Transport.FILE, LONG, null, env);
            s.card(new Card(r, "node" + r, 100 + r, r, "10.0.0." + r, "", Map.of(), Map.of("role", "r" + r)));
            syncs.add(s);
            fs.add(start(s, r == 0 ? Map.of(Roster.WANTED, "1") : Map.of()));
        }
        assertAllSucceed(fs);
        for (StepSync s : syncs) {
            assertNotNull(s.roster());
            List<Map<String, Object>> ranks = Roster.ranks(s.roster());
            assertEquals(2, ranks.size());
            assertEquals("node1", ranks.get(1).get("node"));
            assertEquals("10.0.0.0", ranks.get(0).get("address"));
        }
        awaitCleanedUp();
    }

    @Test
    void card_largeRosterOverTcp_leavesOneCopyPerNodeUnderTmpdir() throws IOException {
        // 24 tasks, two per node, cards of 3 KB: too much to stream to every task, so rank 0 streams it to one task
        // per node, and each node's copy goes to the node's roster directory, $TMPDIR/muster-<uid>/roster
        int size = 24;
        Path tmp = root.resolve("tmp");
        Map<String, String> env = Map.of("TMPDIR", tmp.toString());
        String big = "x".repeat(1000);
        List<StepSync> syncs = new ArrayList<>();
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            StepSync s = sync(r, size, Transport.TCP, LONG, null, env);
            s.card(new Card(r, "n" + r / 2, 100 + r, r % 2, "10.0.0." + r, "", Map.of(), Map.of("a", big, "b", big)));
            syncs.add(s);
            fs.add(start(s, r == 0 ? Map.of(Roster.WANTED, "1") : Map.of()));
            if (r == 0) {
                awaitListening(size);
            }
        }
        List<Result> results = join(fs);
        for (Result res : results) {
            assertEquals(0, res.code(), () -> String.valueOf(res.failure()));
        }
        assertEquals(RosterRelay.NODE, results.get(0).outcome().data().get(Roster.VIA));
        for (StepSync s : syncs) {
            assertEquals(size, Roster.ranks(s.roster()).size());
        }
        Path nodeDir = tmp.resolve("muster-" + Posix.uid()).resolve("roster");
        try (java.util.stream.Stream<Path> files = Files.list(nodeDir)) {
            List<String> names =
                    files.map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(size / 2, names.size(), names::toString);
            for (int n = 0; n < size / 2; n++) {
                String prefix = RosterRelay.prefix(root.resolve(KEY), "n" + n);
                assertTrue(names.stream().anyMatch(f -> f.startsWith(prefix)), prefix + " in " + names);
            }
        }
        awaitCleanedUp();
    }

    @Test
    void noCard_theReleaseCarriesNoRoster() {
        StepSync s = sync(0, 1, Transport.FILE).lastDepartureCleans();
        assertEquals(0, start(s, Map.of()).join().code());
        assertNull(s.roster());
    }

    @Test
    void card_overItsLimits_isAUsageError() {
        StepSync s = sync(0, 2, Transport.FILE);
        Card big = new Card(0, "node0", 1, 0, "", "", Map.of(), Map.of("k", "x".repeat(Card.MAX_VALUE + 1)));
        MusterException e = assertThrows(MusterException.class, () -> s.card(big));
        assertEquals(ExitCodes.USAGE, e.status());
    }

    @Test
    void traceFileThatCannotBeWritten_isOnlyAWarning() {
        Path trace = root.resolve("trace-is-a-directory");
        StepSync s = sync(0, 1, Transport.FILE, LONG, trace, Map.of()).lastDepartureCleans();
        try {
            Files.createDirectories(trace);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Result res = start(s, Map.of()).join();
        assertEquals(0, res.code(), () -> String.valueOf(res.failure()));
        assertTrue(log().contains("warning: cannot write trace file " + trace + ": "), log());
    }
}
