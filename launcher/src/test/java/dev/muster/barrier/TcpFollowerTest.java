package dev.muster.barrier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.testing.HeldClock;
import dev.muster.testing.ManualClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rank 1's side of the TCP release ({@link TcpFollower}) against the test in rank 0's place: rank 0's files are
 * real, its listener is a {@link ScriptedRank0} that answers what each test makes it answer. Deadlines are on a
 * clock only the test moves, so no test waits for one.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpFollowerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** Short, so that a connected task looks at the clock every 100 ms (half of it) at first. */
    private static final Duration PROGRESS = Duration.ofMillis(200);

    @TempDir
    Path root;

    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "rank 1");
        t.setDaemon(true);
        return t;
    });
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private FileBarrier zero;
    private FileBarrier task;

    @BeforeEach
    void captureLog() {
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        Log.to(System.err);
        pool.shutdownNow();
    }

    private FileBarrier barrier(int rank, int size, Clock clock) {
        BarrierSettings s = new BarrierSettings(TIMEOUT, Duration.ofMillis(20), Duration.ofMillis(5), PROGRESS);
        return new FileBarrier(root, "step", rank, size, "node" + rank, s, clock, new Random(rank), null);
    }

    /** A step of {@code size}: rank 0's files, and rank 1 arrived (its deadline starts now on {@code clock}). */
    private void step(int size, Clock clock) {
        zero = barrier(0, size, Clock.SYSTEM);
        zero.prepare();
        task = barrier(1, size, clock);
        task.prepare();
        task.markArrived();
    }

    /** Rank 1's wait on the test's thread: its outcome, or the failure it ends with. */
    private Object follow() {
        try {
            return new TcpFollower(task).await();
        } catch (MusterException e) {
            return e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private CompletableFuture<Object> followAsync() {
        return CompletableFuture.supplyAsync(this::follow, pool);
    }

    /** The task follows rank 0 played by {@code z}, whose endpoint is published first. */
    private CompletableFuture<Object> followAsync(ScriptedRank0 z) {
        zero.polls().publishEndpoint(z.endpoint());
        return followAsync();
    }

    /** The task's connection to {@code z}, its hello read and answered {@code ok}. */
    private static Socket acceptedWithOk(ScriptedRank0 z) throws java.io.IOException {
        Socket s = z.accept();
        ScriptedRank0.readLine(s);
        ScriptedRank0.send(s, "ok\n");
        return s;
    }

    private static Object result(CompletableFuture<Object> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    private static Outcome released(Object r) {
        if (r instanceof MusterException e) {
            throw new AssertionError("not released: " + e.getMessage(), e);
        }
        Outcome o = (Outcome) r;
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals("n1", o.data().get("master_addr"));
        return o;
    }

    private static MusterException failed(Object r) {
        return assertInstanceOf(MusterException.class, r, () -> "not failed: " + r);
    }

    private boolean arrived() {
        return Files.exists(task.files().arrivalFile(1));
    }

    private static void awaitUntil(BooleanSupplier condition) {
        await().atMost(Duration.ofSeconds(10)).until(condition::getAsBoolean);
    }

    private String log() {
        return log.toString(StandardCharsets.UTF_8);
    }

    private int count(String text) {
        String s = log();
        int n = 0;
        for (int i = s.indexOf(text); i >= 0; i = s.indexOf(text, i + 1)) {
            n++;
        }
        return n;
    }

    private static int deadPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    // ---- before connecting: the endpoint file and the outcome file, polled in turn ----

    @Test
    void endpointAndOutcomeBothThere_theEndpointIsReadFirst_andTheOutcomeComesOverTcp() throws Exception {
        step(3, new HeldClock());
        try (ScriptedRank0 z = new ScriptedRank0()) {
            zero.polls().publishEndpoint(z.endpoint());
            Outcome abort = Outcome.abort(2, 7, "rank 2: boom");
            zero.decide(abort);
            CompletableFuture<Object> f = followAsync();
            try (Socket s = z.accept()) {
                assertEquals(ScriptedRank0.hello(1), ScriptedRank0.readLine(s));
                ScriptedRank0.send(s, concat(TcpHello.OK, abort.encode()));
                MusterException e = failed(result(f));
                assertEquals(7, e.status());
                assertEquals("rank 2 aborted the barrier: rank 2: boom (exit 7)", e.getMessage());
                assertEquals("tcp", task.via());
            }
        }
    }

    @Test
    void noEndpointEver_pollsUntilExactlyItsDeadline_thenClaimsItsOwnTimeout() {
        ManualClock clock = new ManualClock();
        step(3, clock);
        MusterException e = failed(follow());
        assertEquals(ExitCodes.TIMEOUT, e.status());
        assertTrue(e.getMessage().contains("1/3 arrived"), e.getMessage());
        assertEquals(
                TIMEOUT.toNanos(),
                clock.sleeps().stream().mapToLong(Long::longValue).sum(),
                "the last pause is cut to the deadline, and none follows it");
        Outcome claimed = zero.readOutcome();
        assertEquals(Outcome.Kind.TIMEOUT, claimed.kind());
        assertEquals(1, claimed.rank());
        assertEquals(List.of(0, 2), claimed.missing());
        assertTrue(arrived(), "named as arrived in its own timeout");
    }

    @Test
    void abortDecidedBeforeAnyEndpoint_isSeenWithinTwoPolls() {
        ManualClock clock = new ManualClock();
        step(3, clock);
        clock.at(100, () -> zero.decide(Outcome.abort(2, 7, "rank 2: boom")));
        MusterException e = failed(follow());
        assertEquals(7, e.status());
        // polls are at most 20 ms apart (pollMax), and every other one reads the outcome
        assertTrue(clock.elapsedMillis() <= 140, "seen after " + clock.elapsedMillis() + " ms");
        assertTrue(arrived());
    }

    @Test
    void releaseDecidedBeforeAnyEndpoint_isTheTasksOutcome() {
        ManualClock clock = new ManualClock();
        step(2, clock);
        clock.at(30, () -> zero.decide(Outcome.release(0, Map.of("master_addr", "n1"))));
        released(follow());
        assertTrue(arrived());
    }

    @Test
    void rank0DoesNotListen_theTaskWritesItsArrivalFile_andWaitsByFiles() throws Exception {
        step(2, new HeldClock());
        zero.polls().publishEndpoint(TcpEndpoint.none("rank 0 cannot listen: test"));
        CompletableFuture<Object> f = followAsync();
        awaitUntil(this::arrived); // rank 0 counts it by its file
        assertFalse(f.isDone());
        zero.decide(Outcome.release(0, Map.of("master_addr", "n1")));
        released(result(f));
        assertEquals("file", task.via());
        assertEquals(0, count("warning"), log());
    }

    @Test
    void deadlinePassedWhenTheEndpointIsRead_noConnectionIsTried() throws Exception {
        ManualClock clock = new ManualClock();
        step(2, clock);
        try (ScriptedRank0 z = new ScriptedRank0()) {
            zero.polls().publishEndpoint(z.endpoint());
            zero.decide(Outcome.release(0, Map.of("master_addr", "n1")));
            clock.advance(TIMEOUT); // exactly at the deadline
            released(follow());
            assertTrue(z.noMoreConnections(), "connected after its deadline");
        }
    }

    // ---- connecting ----

    @Test
    void connectionRefused_whileTheOutcomeIsInTheFile_isThatOutcome_andTheArrivalFileIsWritten() throws Exception {
        step(2, new ManualClock());
        zero.polls().publishEndpoint(TcpEndpoint.listening("127.0.0.1", deadPort(), ScriptedRank0.TOKEN));
        zero.decide(Outcome.release(0, Map.of("master_addr", "n1")));
        released(follow());
        assertTrue(arrived(), "the clean-up and the sweep expect every task's arrival file");
        assertEquals(0, count("warning"), log());
    }

    /**
     * Rank 0 released by files and closed its listener while the task connected: the refusal is no network
     * problem. The task looks at the outcome file a few times, 10, 20 and 40 ms apart, before it warns.
     */
    @Test
    void connectionRefused_outcomeWrittenAMomentLater_isFoundBeforeAnyWarning() throws Exception {
        ManualClock clock = new ManualClock();
        step(2, clock);
        zero.polls().publishEndpoint(TcpEndpoint.listening("127.0.0.1", deadPort(), ScriptedRank0.TOKEN));
        clock.at(25, () -> zero.decide(Outcome.release(0, Map.of("master_addr", "n1"))));
        released(follow());
        assertEquals(List.of(10_000_000L, 20_000_000L), clock.sleeps());
        assertEquals(0, count("warning"), log());
    }

    @Test
    void connectionRefused_andNoOutcomeSoon_warnsOnce_thenWaitsByFiles() throws Exception {
        ManualClock clock = new ManualClock();
        step(2, clock);
        int port = deadPort();
        zero.polls().publishEndpoint(TcpEndpoint.listening("127.0.0.1", port, ScriptedRank0.TOKEN));
        clock.at(1_000, () -> zero.decide(Outcome.release(0, Map.of("master_addr", "n1"))));
        released(follow());
        assertEquals("file", task.via());
        assertEquals(
                List.of(10_000_000L, 20_000_000L, 40_000_000L), clock.sleeps().subList(0, 3));
        assertEquals(1, count("warning"), log());
        assertTrue(
                log().contains("warning: cannot reach rank 0 at 127.0.0.1:" + port
                        + " over TCP (ConnectException: Connection refused); waiting by the file protocol"),
                log());
    }

    @Test
    void rank0ClosesEveryConnectionBeforeItsOk_fourAttemptsWithoutAPauseAfterTheLast_thenOneWarningAndFiles()
            throws Exception {
        HeldClock clock = new HeldClock();
        step(2, clock);
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            for (int i = 0; i < TcpFollower.CONNECT_TRIES; i++) {
                try (Socket s = z.accept()) {
                    assertEquals(ScriptedRank0.hello(1), ScriptedRank0.readLine(s));
                }
            }
            awaitUntil(this::arrived);
            zero.decide(Outcome.release(0, Map.of("master_addr", "n1")));
            released(result(f));
            assertTrue(z.noMoreConnections(), "more than " + TcpFollower.CONNECT_TRIES + " attempts");
            assertEquals(1, count("warning"), log());
            assertTrue(log().contains("(rank 0 closed the connection before accepting it)"), log());
            // pauses of about 1, 4 and 16 ms between the attempts, none after the last; then the looks at the
            // outcome file before the warning, 10, 20 and 40 ms apart
            List<Long> p = clock.sleeps;
            assertTrue(p.size() >= 6, p.toString());
            assertTrue(p.get(0) >= 500_000L && p.get(0) < 1_500_000L, p.toString());
            assertTrue(p.get(1) >= 2_000_000L && p.get(1) < 6_000_000L, p.toString());
            assertTrue(p.get(2) >= 8_000_000L && p.get(2) < 24_000_000L, p.toString());
            assertEquals(List.of(10_000_000L, 20_000_000L, 40_000_000L), p.subList(3, 6));
        }
    }

    @Test
    void answerThatIsNotOk_theTaskHangsUpAtOnce_triesNoMore_andWaitsByFiles() throws Exception {
        step(2, new HeldClock());
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = z.accept()) {
                assertEquals(ScriptedRank0.hello(1), ScriptedRank0.readLine(s));
                ScriptedRank0.send(s, "NO\n"); // as long as an ok: all read, so the close is no reset
                assertEquals("", ScriptedRank0.rest(s), "closed, without a bye");
            }
            awaitUntil(this::arrived);
            zero.decide(Outcome.release(0, Map.of("master_addr", "n1")));
            released(result(f));
            assertTrue(z.noMoreConnections(), "a listener that is not muster's is not tried again");
            assertEquals(1, count("warning"), log());
            assertTrue(log().contains("(the listener is not muster's)"), log());
        }
    }

    @Test
    void resetBeforeTheOk_afterRank0Decided_isThatOutcome_withoutWarningOrRetry() throws Exception {
        step(2, new HeldClock());
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            Socket s = z.accept();
            assertEquals(ScriptedRank0.hello(1), ScriptedRank0.readLine(s));
            zero.decide(Outcome.release(0, Map.of("master_addr", "n1")));
            ScriptedRank0.reset(s);
            released(result(f));
            assertTrue(z.noMoreConnections());
            assertEquals(0, count("warning"), log());
        }
    }

    /**
     * No answer at all to the connection (a full backlog drops the SYN, as a firewall that drops does): the task
     * warns once, and waits by files at once, without another attempt.
     */
    @Test
    void noAnswerToTheConnection_warnsOnce_andWaitsByFilesWithoutRetrying() throws Exception {
        HeldClock clock = new HeldClock();
        step(2, clock);
        clock.advance(TIMEOUT.minusMillis(150)); // the attempt's timeout: what is left of the task's own
        List<Boolean> arrivedAtPause = new CopyOnWriteArrayList<>();
        clock.onSleep.add(() -> arrivedAtPause.add(arrived()));
        try (ScriptedRank0 z = new ScriptedRank0(1)) {
            List<Socket> queued = TcpClientTest.fillBacklog(z);
            try {
                CompletableFuture<Object> f = followAsync(z);
                awaitUntil(this::arrived);
                zero.decide(Outcome.release(0, Map.of("master_addr", "n1")));
                released(result(f));
            } finally {
                for (Socket s : queued) {
                    s.close();
                }
            }
            assertEquals(1, count("warning"), log());
            assertTrue(log().contains("over TCP (no connection within 150 ms); waiting by the file protocol"), log());
            assertFalse(arrivedAtPause.isEmpty());
            assertFalse(arrivedAtPause.contains(false), "paused before waiting by files: " + arrivedAtPause);
        }
    }

    @Test
    void silentNetwork_isNoAnswerOrNoRoute_notARefusal() {
        assertTrue(TcpFollower.silentNetwork("no connection within 5000 ms"));
        assertTrue(TcpFollower.silentNetwork("NoRouteToHostException: No route to host"));
        assertTrue(TcpFollower.silentNetwork("SocketException: Network is unreachable"));
        assertFalse(TcpFollower.silentNetwork("ConnectException: Connection refused"));
        assertFalse(TcpFollower.silentNetwork(null));
    }

    // ---- connected, rank 0 has not answered the hello ----

    @Test
    void rank0NeverAnswers_theTaskWritesItsArrivalFile_andAtItsDeadlineSaysByeAndClaimsItsTimeout() throws Exception {
        HeldClock clock = new HeldClock();
        step(2, clock);
        clock.advance(TIMEOUT.minusMillis(50)); // rounds of 50 ms: what is left
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = z.accept()) {
                assertEquals(ScriptedRank0.hello(1), ScriptedRank0.readLine(s));
                awaitUntil(this::arrived); // counted by its file while rank 0 does not answer
                clock.advance(Duration.ofMillis(50)); // exactly the deadline
                assertEquals("bye\n", ScriptedRank0.rest(s));
            }
            MusterException e = failed(result(f));
            assertEquals(ExitCodes.TIMEOUT, e.status());
            Outcome claimed = zero.readOutcome();
            assertEquals(Outcome.Kind.TIMEOUT, claimed.kind());
            assertEquals(1, claimed.rank());
            assertTrue(z.noMoreConnections());
        }
    }

    @Test
    void outcomeDecidedWhileRank0HasNotAnswered_endsTheWaitWithThatOutcome_withoutBye() throws Exception {
        HeldClock clock = new HeldClock();
        step(3, clock);
        clock.advance(TIMEOUT.minusMillis(50));
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = z.accept()) {
                assertEquals(ScriptedRank0.hello(1), ScriptedRank0.readLine(s));
                awaitUntil(this::arrived); // a round without an answer has passed, long before the deadline
                zero.decide(Outcome.abort(2, 7, "rank 2: boom"));
                assertEquals("", ScriptedRank0.rest(s), "a bye is for a task that leaves at its own deadline");
            }
            MusterException e = failed(result(f));
            assertEquals(7, e.status());
            assertTrue(arrived());
        }
    }

    // ---- connected and accepted ----

    @Test
    void okThenBeatsAndTheReleaseInPieces_isReleasedOverTcp() throws Exception {
        step(2, new HeldClock());
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = z.accept()) {
                assertEquals(ScriptedRank0.hello(1), ScriptedRank0.readLine(s));
                ScriptedRank0.send(s, "ok\n");
                ScriptedRank0.send(s, "\n\n");
                byte[] release = ScriptedRank0.release();
                ScriptedRank0.send(s, Arrays.copyOf(release, 10));
                ScriptedRank0.send(s, Arrays.copyOfRange(release, 10, release.length));
                released(result(f));
                assertEquals("", ScriptedRank0.rest(s), "closed after the release, without a bye");
            }
            assertEquals("tcp", task.via());
            assertTrue(arrived());
            assertTrue(z.noMoreConnections());
            assertFalse(log().contains("waiting for the release"), "nothing to say before its interval: " + log());
        }
    }

    @Test
    void rosterStreamedAfterTheRelease_isTheTasksRoster() throws Exception {
        step(2, new HeldClock());
        byte[] roster = "[{\"rank\":0},{\"rank\":1}]".getBytes(StandardCharsets.UTF_8);
        Map<String, String> d = new HashMap<>();
        d.put("master_addr", "n1");
        d.put(Roster.VIA, "tcp");
        d.put(Roster.BYTES, Integer.toString(roster.length));
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = z.accept()) {
                ScriptedRank0.readLine(s);
                ScriptedRank0.send(
                        s, concat(TcpHello.OK, concat(Outcome.release(0, d).encode(), roster)));
                Outcome o = released(result(f));
                assertArrayEquals(roster, task.roster(o));
                assertEquals("stream", task.stepRoster().rosterFrom());
            }
        }
    }

    @Test
    void closeAfterTheOk_withoutAnOutcome_abortsNamingRank0() throws Exception {
        step(2, new HeldClock());
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            acceptedWithOk(z).close(); // rank 0's connection closes after its ok
            MusterException e = failed(result(f));
            assertEquals(ExitCodes.PEER_ABORTED, e.status());
            assertTrue(
                    e.getMessage().startsWith("rank 0 aborted the barrier: its connection closed before the release ("),
                    e.getMessage());
            assertTrue(e.getMessage().contains("rank 0 was killed, or its node failed"), e.getMessage());
            Outcome decided = zero.readOutcome();
            assertNotNull(decided, "the abort is claimed for the tasks that wait by files");
            assertEquals(Outcome.Kind.ABORT, decided.kind());
            assertEquals(0, decided.rank());
        }
    }

    @Test
    void closeAfterTheOk_withTheOutcomeInTheFile_isThatOutcome() throws Exception {
        step(2, new HeldClock());
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            Socket s = acceptedWithOk(z);
            zero.decide(Outcome.release(0, Map.of("master_addr", "n1")));
            s.close(); // after the release is in the file, not sent
            released(result(f));
        }
    }

    @Test
    void connectedUntilItsDeadline_saysByeAndClaimsItsOwnTimeout() throws Exception {
        HeldClock clock = new HeldClock();
        step(2, clock);
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = acceptedWithOk(z)) {
                clock.advance(TIMEOUT); // exactly the deadline
                assertEquals("bye\n", ScriptedRank0.rest(s));
            }
            MusterException e = failed(result(f));
            assertEquals(ExitCodes.TIMEOUT, e.status());
            assertEquals(1, zero.readOutcome().rank(), "its own timeout, claimed");
            assertTrue(arrived());
            assertFalse(log().contains("unresponsive"), "rank 0 was heard from a moment ago: " + log());
        }
    }

    @Test
    void connectedUntilItsDeadline_withTheReleaseAlreadyInTheFile_isReleased() throws Exception {
        HeldClock clock = new HeldClock();
        step(2, clock);
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = acceptedWithOk(z)) {
                zero.decide(Outcome.release(0, Map.of("master_addr", "n1"))); // not sent over TCP (yet)
                clock.advance(TIMEOUT);
                assertEquals("bye\n", ScriptedRank0.rest(s));
            }
            released(result(f));
        }
    }

    /** Connected less than the arrival file's delay before its deadline: it still counts itself as arrived. */
    @Test
    void connectedJustBeforeItsDeadline_itsOwnTimeoutDoesNotNameIt() throws Exception {
        HeldClock clock = new HeldClock();
        step(3, clock);
        clock.advance(TIMEOUT.minusMillis(100));
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = acceptedWithOk(z)) {
                clock.advance(Duration.ofMillis(100));
                assertEquals("bye\n", ScriptedRank0.rest(s));
            }
            assertEquals(ExitCodes.TIMEOUT, failed(result(f)).status());
            assertEquals(List.of(0, 2), zero.readOutcome().missing());
        }
    }

    /**
     * A connected task says it waits (after half the progress interval, then every three intervals), and writes
     * its arrival file only once {@link TcpFollower#ARRIVAL_FILE_DELAY_NANOS} have passed since it connected.
     */
    @Test
    void connected_saysItWaits_andWritesItsArrivalFileOnlyOnceItsDelayHasPassed() throws Exception {
        HeldClock clock = new HeldClock();
        step(2, clock);
        // the first line is due half a progress interval after the arrival: at once when the task connects
        clock.advance(PROGRESS.dividedBy(2));
        String waiting = "waiting for the release from rank 0 over TCP";
        try (ScriptedRank0 z = new ScriptedRank0()) {
            CompletableFuture<Object> f = followAsync(z);
            try (Socket s = acceptedWithOk(z)) {
                awaitUntil(() -> log().contains(waiting));
                assertTrue(log().contains(waiting + " (19 s left)"), log());
                assertFalse(arrived(), "written before its delay");
                clock.advance(Duration.ofNanos(TcpFollower.ARRIVAL_FILE_DELAY_NANOS)); // exactly the delay
                awaitUntil(this::arrived);
                ScriptedRank0.send(s, ScriptedRank0.release());
                released(result(f));
            }
            assertEquals(1, count(waiting), "the next line is due three intervals later: " + log());
        }
    }
}
