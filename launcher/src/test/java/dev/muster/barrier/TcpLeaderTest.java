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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rank 0's wait over TCP ({@link TcpLeader}) with scripted followers: this test's own sockets say their hellos and
 * byes and read what rank 0 sends, the others' files are written by their own {@link FileBarrier}s. Rank 0's clock
 * is the test's: it moves only when the test moves it, and the test knows rank 0's loop went round at the new time
 * when the loop has read the clock a few more times.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpLeaderTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Duration POLL_MAX = Duration.ofMillis(10);
    private static final Duration PROGRESS = Duration.ofSeconds(10);

    @TempDir
    Path root;

    /** Rank 0's clock: moved by the test; its sleeps last as long as asked, as before. */
    private final HeldClock clock = new HeldClock(Duration.ofDays(1));
    /** The step's tasks: three unless a test needs a fourth. */
    private int size = 3;

    private final List<Socket> sockets = new ArrayList<>();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private FileBarrier zeroFiles;
    private TcpBarrier zero;
    private CompletableFuture<Outcome> zeroDone;
    private long arrived;
    private TcpEndpoint endpoint;

    @BeforeEach
    void captureLog() {
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void end() throws IOException {
        if (zeroDone != null && !zeroDone.isDone()) {
            clock.advance(TIMEOUT.multipliedBy(2)); // past rank 0's deadline: its wait ends
        }
        for (Socket s : sockets) {
            s.close();
        }
        Log.to(System.err);
    }

    private FileBarrier files(int rank, Clock c) {
        BarrierSettings s = new BarrierSettings(TIMEOUT, POLL_MAX, POLL_MAX.dividedBy(2), PROGRESS);
        FileBarrier fb = new FileBarrier(root, "step", rank, size, "node" + rank, s, c, new Random(rank), null);
        fb.prepare();
        return fb;
    }

    /** Rank 0 prepares, listens, arrives at the clock's time and waits on a thread of its own. */
    private void startRank0(Map<String, String> releaseData) {
        startRank0(releaseData, null);
    }

    /** As {@link #startRank0(Map)}, with rank 0's own card for the roster when it is not null. */
    private void startRank0(Map<String, String> releaseData, Card card) {
        zeroFiles = files(0, clock);
        if (card != null) {
            zeroFiles.stepRoster().card(card);
        }
        zero = new TcpBarrier(zeroFiles, InetAddress::getLoopbackAddress, "127.0.0.1");
        zero.prepare();
        zero.arrive();
        arrived = clock.now();
        zeroDone = CompletableFuture.supplyAsync(() -> {
            try {
                return zero.await(releaseData);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Rank 0's endpoint, as the others read it from its file once it is published. */
    private TcpEndpoint endpoint() {
        if (endpoint == null) {
            FileBarrier reader = files(1, Clock.SYSTEM);
            await().atMost(Duration.ofSeconds(10)).until(() -> reader.polls().endpoint() != null);
            endpoint = reader.polls().endpoint();
        }
        return endpoint;
    }

    private Socket connect() throws IOException {
        TcpEndpoint ep = endpoint();
        Socket s = new Socket(ep.host(), ep.port());
        s.setSoTimeout(10_000);
        sockets.add(s);
        return s;
    }

    /** A follower that said its hello as {@code rank} and got rank 0's ok. */
    private Socket follower(int rank) throws IOException {
        return follower(rank, null);
    }

    /** As {@link #follower(int)}, with {@code card} in a version 2 hello when it is not null. */
    private Socket follower(int rank, byte[] card) throws IOException {
        Socket s = connect();
        ScriptedRank0.send(s, TcpHello.of(rank, endpoint().token(), card));
        assertArrayEquals(TcpHello.OK, s.getInputStream().readNBytes(TcpHello.OK.length), "rank 0's answer");
        return s;
    }

    /** Moves rank 0's clock to {@code sinceArrival} after its arrival (for a move that ends its wait). */
    private void moveTo(Duration sinceArrival) {
        clock.set(arrived + sinceArrival.toNanos());
    }

    /** Moves rank 0's clock to {@code sinceArrival} after its arrival and lets its loop go round at that time. */
    private void at(Duration sinceArrival) {
        moveTo(sinceArrival);
        long reads = clock.reads();
        // a round reads the clock once or twice: ten reads are several whole rounds at the new time
        await().atMost(Duration.ofSeconds(10)).until(() -> clock.reads() >= reads + 10);
    }

    private MusterException failure() throws InterruptedException {
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                ExecutionException.class, () -> zeroDone.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(MusterException.class, e.getCause());
    }

    private List<String> progressLines() {
        return log.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(l -> l.contains(" arrived ("))
                .toList();
    }

    @Test
    void progressLine_firstAtHalfTheInterval_thenEveryInterval_namingWhoIsMissing() throws Exception {
        startRank0(Map.of());
        follower(1);
        at(PROGRESS.dividedBy(2).minusMillis(1));
        assertEquals(List.of(), progressLines(), "none before half the interval");
        at(PROGRESS.dividedBy(2));
        assertEquals(1, progressLines().size(), progressLines()::toString);
        assertTrue(
                progressLines().get(0).endsWith("2/3 arrived (1 by TCP), waiting for 2 (55 s left)"),
                progressLines().get(0));
        at(PROGRESS.dividedBy(2).plus(PROGRESS).minusMillis(1));
        assertEquals(1, progressLines().size(), "the next one a whole interval later: " + progressLines());
        at(PROGRESS.dividedBy(2).plus(PROGRESS));
        assertEquals(2, progressLines().size(), progressLines()::toString);
        assertTrue(
                progressLines().get(1).endsWith("(45 s left)"), progressLines().get(1));
        follower(2);
        assertEquals(Outcome.Kind.RELEASE, zeroDone.get(10, TimeUnit.SECONDS).kind());
    }

    @Test
    void heartbeat_onceEverySecondOfRank0sClock_beforeTheOutcome() throws Exception {
        startRank0(Map.of("master_addr", "n0"));
        Socket one = follower(1);
        at(Duration.ZERO);
        at(Duration.ofNanos(TcpHello.BEAT_NANOS)); // a beat is due
        assertEquals(TcpHello.BEAT[0], one.getInputStream().read(), "the beat, sent when due");
        at(Duration.ofNanos(TcpHello.BEAT_NANOS + TcpHello.BEAT_NANOS / 2)); // the next is not
        follower(2);
        Outcome o = zeroDone.get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        byte[] expected = zeroFiles.readOutcome().encode();
        assertArrayEquals(expected, one.getInputStream().readAllBytes(), "no other beat: the outcome and the end");
    }

    @Test
    void everyOtherArrivalFileThere_releaseOnTheFirstRound_withoutTimePassing() throws Exception {
        files(1, Clock.SYSTEM).arrive();
        files(2, Clock.SYSTEM).arrive();
        startRank0(Map.of("master_addr", "n0"));
        Outcome o = zeroDone.get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals("n0", o.data().get("master_addr"));
        assertEquals("file", zeroFiles.via(), "nobody connected: nobody got it over TCP");
        assertEquals(0, zero.sentBytes());
    }

    @Test
    void abortInTheOutcomeFile_isReadAtTheNextPollOfTheFiles_andRelayedToTheConnected() throws Exception {
        startRank0(Map.of());
        Socket one = follower(1);
        at(Duration.ZERO);
        files(2, Clock.SYSTEM).abort(127, "rank 2: ./app: command not found");
        at(Duration.ZERO);
        assertFalse(zeroDone.isDone(), "the files are read with backoff, not at every turn of the loop");
        moveTo(POLL_MAX);
        MusterException e = failure();
        assertEquals(127, e.status());
        assertTrue(e.getMessage().contains("rank 2"), e.getMessage());
        Outcome file = zeroFiles.readOutcome();
        assertArrayEquals(file.encode(), one.getInputStream().readAllBytes(), "the abort, as in the file");
    }

    @Test
    void connectionClosedWithoutBye_abortNamesTheRank_andTheOthersGetIt() throws Exception {
        size = 4; // rank 3 never comes: the step is not complete when rank 2's connection closes
        startRank0(Map.of());
        Socket one = follower(1);
        follower(2).close();
        MusterException e = failure();
        assertEquals(ExitCodes.PEER_ABORTED, e.status());
        assertTrue(e.getMessage().contains("rank 2's connection to rank 0 closed"), e.getMessage());
        assertArrayEquals(zeroFiles.readOutcome().encode(), one.getInputStream().readAllBytes());
    }

    @Test
    void deadline_withARankMissing_isATimeoutNamingIt_notAMomentEarlier() throws Exception {
        startRank0(Map.of());
        Socket one = follower(1);
        at(TIMEOUT.minusNanos(1));
        assertFalse(zeroDone.isDone());
        moveTo(TIMEOUT);
        MusterException e = failure();
        assertEquals(ExitCodes.TIMEOUT, e.status());
        assertTrue(e.getMessage().contains("missing rank 2"), e.getMessage());
        Outcome timeout = zeroFiles.readOutcome();
        assertEquals(Outcome.Kind.TIMEOUT, timeout.kind());
        // the minute that passed at once called for one heartbeat; the timeout came before the next
        assertArrayEquals(
                concat(TcpHello.BEAT, timeout.encode()), one.getInputStream().readAllBytes());
    }

    @Test
    void followerThatSaidByeAtItsDeadline_countsAsArrived() throws Exception {
        startRank0(Map.of("master_addr", "n0"));
        Socket one = follower(1);
        ScriptedRank0.send(one, TcpHello.BYE);
        one.close();
        at(Duration.ZERO);
        assertFalse(zeroDone.isDone(), "rank 2 has not come");
        Socket two = follower(2);
        assertEquals(Outcome.Kind.RELEASE, zeroDone.get(10, TimeUnit.SECONDS).kind());
        assertArrayEquals(zeroFiles.readOutcome().encode(), two.getInputStream().readAllBytes());
    }

    @Test
    void release_toEveryConnectedFollower_countsTheBytesSent() throws Exception {
        startRank0(Map.of("master_addr", "n0"));
        Socket one = follower(1);
        Socket two = follower(2);
        Outcome o = zeroDone.get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        byte[] bytes = zeroFiles.readOutcome().encode();
        assertArrayEquals(bytes, one.getInputStream().readAllBytes());
        assertArrayEquals(bytes, two.getInputStream().readAllBytes());
        assertEquals(2L * bytes.length, zero.sentBytes());
        assertEquals("tcp", zeroFiles.via());
        assertEquals(2, zero.connectedCount());
    }

    @Test
    void release_withTheRosterWanted_streamsItBehindTheOutcome_andWritesTheRosterFile() throws Exception {
        startRank0(Map.of("master_addr", "n0", Roster.WANTED, "1"));
        // their cards come with their hellos: rank 0 builds the roster without reading their arrival files
        Socket one = follower(1, Card.minimal(1, "node1", 1001).encode());
        Socket two = follower(2, Card.minimal(2, "node2", 1002).encode());
        Outcome o = zeroDone.get(10, TimeUnit.SECONDS);
        assertEquals("tcp", o.data().get(Roster.VIA));
        byte[] roster = zeroFiles.stepRoster().builtRoster();
        assertNotNull(roster);
        byte[] expected = concat(zeroFiles.readOutcome().encode(), roster);
        assertArrayEquals(expected, one.getInputStream().readAllBytes(), "the outcome, then the roster");
        assertArrayEquals(expected, two.getInputStream().readAllBytes());
        assertEquals(2L * expected.length, zero.sentBytes());
        // every task was connected, so the roster file was written after the release went out; but it is written
        Path file = zeroFiles.dir().resolve(RosterFiles.ROSTER);
        assertTrue(Files.exists(file), "the step's roster file, for whoever reads it later");
    }

    @Test
    void release_withATaskWaitingByFile_theRosterFileIsWrittenBeforeTheRelease() throws Exception {
        FileBarrier two = files(2, Clock.SYSTEM);
        two.stepRoster().card(Card.minimal(2, "node2", 1002));
        two.arrive(); // by file only: it reads the roster from the step's file
        startRank0(Map.of("master_addr", "n0", Roster.WANTED, "1"));
        Socket one = follower(1, Card.minimal(1, "node1", 1001).encode());
        assertEquals(Outcome.Kind.RELEASE, zeroDone.get(10, TimeUnit.SECONDS).kind());
        byte[] roster = zeroFiles.stepRoster().builtRoster();
        byte[] got = one.getInputStream().readAllBytes();
        assertTrue(
                Files.exists(zeroFiles.dir().resolve(RosterFiles.ROSTER)),
                "a task that was not connected finds the roster file with the release");
        assertArrayEquals(concat(zeroFiles.readOutcome().encode(), roster), got);
        assertArrayEquals(roster, Files.readAllBytes(zeroFiles.dir().resolve(RosterFiles.ROSTER)));
    }

    /** A card of about 4 KB on node {@code n<rank/2>}: two tasks a node, rank 0 and 1 on the first. */
    private static Card bigCard(int rank) {
        String v = "v".repeat(950);
        return new Card(
                rank, "n" + rank / 2, 1000 + rank, -1, "", "", Map.of(), Map.of("a", v, "b", v, "c", v, "d", v));
    }

    @Test
    void release_withARosterTooLargeForEveryone_streamsItToTheConnectedNodeLeadersOnly() throws Exception {
        size = 20; // 20 cards of 4 KB to 19 tasks is over RosterRelay.ALL_BUDGET: the node leaders get it
        FileBarrier byFile = files(18, Clock.SYSTEM); // the leader of node n9, not connected
        byFile.stepRoster().card(bigCard(18));
        byFile.arrive();
        startRank0(Map.of("master_addr", "n0", Roster.WANTED, "1"), bigCard(0));
        Map<Integer, Socket> followers = new java.util.TreeMap<>();
        for (int r = 1; r < size; r++) {
            if (r != 18) {
                followers.put(r, follower(r, bigCard(r).check()));
            }
        }
        Outcome o = zeroDone.get(10, TimeUnit.SECONDS);
        assertEquals(RosterRelay.NODE, o.data().get(Roster.VIA));
        byte[] roster = zeroFiles.stepRoster().builtRoster();
        byte[] plain = zeroFiles.readOutcome().encode();
        long leaderLength = 0;
        for (Map.Entry<Integer, Socket> f : followers.entrySet()) {
            byte[] got = f.getValue().getInputStream().readAllBytes();
            int r = f.getKey();
            if (r % 2 == 1) {
                assertArrayEquals(plain, got, "rank " + r + " leads no node: the outcome alone");
                continue;
            }
            leaderLength = got.length;
            byte[] head = java.util.Arrays.copyOf(got, got.length - roster.length);
            assertArrayEquals(roster, java.util.Arrays.copyOfRange(got, head.length, got.length), "rank " + r);
            Outcome copy = Outcome.decode(head, head.length, "rank " + r + "'s stream");
            assertEquals("1", copy.data().get(RosterRelay.STREAMED), "rank " + r + " leads node n" + r / 2);
        }
        // ranks 1..17 odd and 19: the outcome; ranks 2..16 even: theirs with the roster (18 was not connected)
        assertEquals(10L * plain.length + 8L * leaderLength, zero.sentBytes());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
