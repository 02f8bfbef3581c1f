package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.exec.Handover;
import dev.muster.exec.Signals;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A task's side of the small waiter (docs/barrier.md, "The small waiter") through its seams in {@link StepSync}:
 * {@link StepSync#handOver} with a recording {@link Handover.Taker} in place of the exec of the waiter (what is
 * handed over, when, and when not), and {@link StepSync#resume} for every way the waiter hands a wait back to the
 * JVM it starts again but a signal (which ends the process: TermDuringHandOffIT).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WaiterHandOffTest {
    @TempDir
    Path root;

    final StepSyncTest ranks = new StepSyncTest();
    final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() {
        ranks.root = root;
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        Log.to(System.err);
        Signals.restoreOriginal(Signals.CAUGHT);
        ranks.pool.shutdownNow();
    }

    /** A taker that records what it is handed and returns: the task then waits in its JVM, as after a failed exec. */
    static final class Recorder implements Handover.Taker {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<Handover> taken = new CompletableFuture<>();
        final Path arrival;
        volatile boolean arrivalAtPrepare;
        volatile boolean arrivalAtTake;
        volatile boolean quietAtTake;
        volatile long takenAt;

        Recorder(Path arrival) {
            this.arrival = arrival;
        }

        @Override
        public void prepare() {
            events.add("prepare");
            arrivalAtPrepare = Files.exists(arrival);
        }

        @Override
        public void take(Handover h) {
            events.add("take");
            arrivalAtTake = Files.exists(arrival);
            quietAtTake = h.quiet().getAsBoolean();
            takenAt = System.nanoTime();
            taken.complete(h);
        }

        @Override
        public void cancel() {
            events.add("cancel");
        }
    }

    Path arrival(int rank, int size) {
        return ranks.files(rank, size).files().arrivalFile(rank);
    }

    /**
     * The hand-off comes right after the connection is made, before the hello, which the waiter sends: the task
     * arrives then, and the JVM's teardown comes before its arrival (docs/barrier.md, "The small waiter").
     */
    @Test
    void connected_theTakerGetsTheConnectionBeforeTheHello_theHelloDeadlineScheduleDepartureTraceHeadAndAbortClaim()
            throws Exception {
        Path trace = root.resolve("trace.txt");
        List<CompletableFuture<StepSyncTest.Result>> fs = new ArrayList<>();
        fs.add(ranks.start(ranks.sync(0, 3, Transport.TCP, StepSyncTest.LONG, trace, Map.of()), Map.of()));
        ranks.awaitListening(3);
        TcpEndpoint ep = ranks.files(2, 3).polls().endpoint();
        long before = System.nanoTime();
        StepSync one = ranks.sync(1, 3, Transport.TCP, StepSyncTest.LONG, trace, Map.of());
        Recorder taker = new Recorder(arrival(1, 3));
        one.handOver(taker);
        fs.add(ranks.start(one, Map.of()));
        Handover h = taker.taken.get(10, TimeUnit.SECONDS);
        // (the recorder returns: the JVM then says hello itself and waits, without a second offer)
        fs.add(ranks.start(ranks.sync(2, 3, Transport.TCP), Map.of()));
        StepSyncTest.assertAllSucceed(fs);
        ranks.awaitCleanedUp();

        assertEquals(List.of("prepare", "take", "cancel"), taker.events);
        assertFalse(taker.arrivalAtPrepare);
        assertFalse(taker.arrivalAtTake, "the waiter writes the arrival file after rank 0's ok");
        assertTrue(taker.quietAtTake);
        assertFalse(h.stopping().getAsBoolean());

        assertEquals(ep.port(), h.remotePort());
        assertTrue(h.localPort() > 0);
        assertNotEquals(h.remotePort(), h.localPort());
        long timeout = StepSyncTest.LONG.toNanos();
        long progress = Duration.ofSeconds(60).toNanos();
        assertTrue(before + timeout <= h.deadlineNanos() && h.deadlineNanos() <= taker.takenAt + timeout);
        assertTrue(before + progress / 2 <= h.progressNanos() && h.progressNanos() <= taker.takenAt + progress / 2);
        assertEquals(progress * 3, h.everyNanos());
        assertTrue(before <= h.heardNanos() && h.heardNanos() <= taker.takenAt);
        Path dir = root.resolve(StepSyncTest.KEY);
        assertEquals(dir.resolve(StepFiles.DEPARTURE).resolve("1"), h.departure());

        // the waiter completes the task's trace line from its hello on: the JVM's own line up to arrive_us
        String line1 = Files.readAllLines(trace).stream()
                .filter(l -> l.startsWith("rank=1 "))
                .findFirst()
                .orElseThrow();
        assertEquals(line1.substring(0, line1.indexOf(" arrive_us=")), h.traceLine());
        assertEquals("rank=1 size=3 node=node1 pid=" + Posix.pid(), h.traceLine());

        Map<String, String> claim = h.abortClaim();
        assertEquals(
                Set.of(
                        "MUSTER_WAIT_CLAIM",
                        "MUSTER_WAIT_CLAIM_TEMP",
                        "MUSTER_WAIT_OUTCOME",
                        "MUSTER_WAIT_ABORT_TERM",
                        "MUSTER_WAIT_ABORT_INT",
                        "MUSTER_WAIT_ABORT_HUP",
                        "MUSTER_WAIT_HELLO",
                        "MUSTER_WAIT_POLICY",
                        "MUSTER_WAIT_ARRIVAL",
                        "MUSTER_WAIT_ARRIVAL_INFO"),
                claim.keySet());
        assertEquals(
                "muster-hello 1 1 " + java.util.HexFormat.of().formatHex(ep.token()) + "\n",
                claim.get("MUSTER_WAIT_HELLO"));
        assertEquals(arrival(1, 3).toString(), claim.get("MUSTER_WAIT_ARRIVAL"));
        assertTrue(
                claim.get("MUSTER_WAIT_ARRIVAL_INFO").startsWith("host=node1 pid=" + Posix.pid() + " time="),
                claim.get("MUSTER_WAIT_ARRIVAL_INFO"));
        assertEquals(dir.resolve(StepFiles.CLAIM).toString(), claim.get("MUSTER_WAIT_CLAIM"));
        assertEquals(
                dir.resolve(StepFiles.CLAIM_TEMP + "1." + Posix.pid() + ".").toString(),
                claim.get("MUSTER_WAIT_CLAIM_TEMP"));
        assertEquals(dir.resolve(StepFiles.OUTCOME).toString(), claim.get("MUSTER_WAIT_OUTCOME"));
        assertAbort(claim.get("MUSTER_WAIT_ABORT_TERM"), 143, "rank 1 was stopped by SIGTERM while waiting");
        assertAbort(claim.get("MUSTER_WAIT_ABORT_INT"), 130, "rank 1 was stopped by SIGINT while waiting");
        assertAbort(claim.get("MUSTER_WAIT_ABORT_HUP"), 129, "rank 1 was stopped by SIGHUP while waiting");
    }

    /**
     * A task that arrived while rank 0 was not listening yet wrote its arrival file then, and may be counted by it:
     * its arrival stays that one (the trace line is handed over whole) and the waiter writes no file of its own.
     */
    @Test
    void arrivedByFileBeforeRank0Listened_theTraceKeepsThatArrival_andTheWaiterWritesNoArrivalFile() throws Exception {
        Path trace = root.resolve("trace.txt");
        StepSync one = ranks.sync(1, 3, Transport.TCP, StepSyncTest.LONG, trace, Map.of());
        Recorder taker = new Recorder(arrival(1, 3));
        one.handOver(taker);
        List<CompletableFuture<StepSyncTest.Result>> fs = new ArrayList<>();
        fs.add(ranks.start(one, Map.of()));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(arrival(1, 3)));
        fs.add(ranks.start(ranks.sync(0, 3, Transport.TCP, StepSyncTest.LONG, trace, Map.of()), Map.of()));
        Handover h = taker.taken.get(10, TimeUnit.SECONDS);
        fs.add(ranks.start(ranks.sync(2, 3, Transport.TCP), Map.of()));
        StepSyncTest.assertAllSucceed(fs);
        ranks.awaitCleanedUp();

        assertTrue(taker.arrivalAtTake);
        assertFalse(
                h.abortClaim().containsKey("MUSTER_WAIT_ARRIVAL"),
                h.abortClaim().keySet().toString());
        assertTrue(h.abortClaim().containsKey("MUSTER_WAIT_HELLO"));
        String line1 = Files.readAllLines(trace).stream()
                .filter(l -> l.startsWith("rank=1 "))
                .findFirst()
                .orElseThrow();
        assertEquals(line1.substring(0, line1.indexOf(" release_us=")), h.traceLine());
    }

    /**
     * Rank 0 offers its listener once it is open, before accepting anything: the taker gets the listener's port, the
     * step's size, the token, the release already encoded and how to read the step files; rank 0's own abort claim;
     * and its departure, trace head and deadline. (The recorder returns: rank 0 then waits in its JVM.)
     */
    @Test
    void rank0_theTakerGetsTheListenerBeforeAnyConnection_withWhatTheLeaderNeeds() throws Exception {
        Path trace = root.resolve("trace.txt");
        long before = System.nanoTime();
        StepSync zero = ranks.sync(0, 3, Transport.TCP, StepSyncTest.LONG, trace, Map.of());
        Recorder taker = new Recorder(arrival(0, 3));
        zero.handOver(taker);
        List<CompletableFuture<StepSyncTest.Result>> fs = new ArrayList<>();
        fs.add(ranks.start(zero, Map.of("master_addr", "10.0.0.1")));
        Handover h = taker.taken.get(10, TimeUnit.SECONDS);
        fs.add(ranks.start(ranks.sync(1, 3, Transport.TCP), Map.of()));
        fs.add(ranks.start(ranks.sync(2, 3, Transport.TCP), Map.of()));
        StepSyncTest.assertAllSucceed(fs);
        ranks.awaitCleanedUp();

        assertEquals(List.of("prepare", "take", "cancel"), taker.events);
        assertTrue(taker.arrivalAtPrepare, "rank 0 wrote its arrival file on arriving");
        TcpEndpoint ep = ranks.files(1, 3).polls().endpoint();
        assertEquals(Handover.LISTENER, h.remotePort());
        assertEquals(ep == null ? h.localPort() : ep.port(), h.localPort());
        assertTrue(before + StepSyncTest.LONG.toNanos() <= h.deadlineNanos());
        assertEquals(Duration.ofSeconds(60).toNanos(), h.everyNanos(), "rank 0's progress lines come every period");
        Path dir = root.resolve(StepSyncTest.KEY);
        assertEquals(dir.resolve(StepFiles.DEPARTURE).resolve("0"), h.departure());
        assertTrue(
                h.traceLine().matches("rank=0 size=3 node=\\S+ pid=" + Posix.pid() + " arrive_us=\\d+"), h.traceLine());

        Map<String, String> v = h.abortClaim();
        assertEquals("3", v.get("MUSTER_WAIT_SIZE"));
        assertTrue(v.get("MUSTER_WAIT_TOKEN").matches("[0-9a-f]{32}"), v.get("MUSTER_WAIT_TOKEN"));
        byte[] release = v.get("MUSTER_WAIT_RELEASE").getBytes(StandardCharsets.UTF_8);
        Outcome o = Outcome.decode(release, release.length, "the release");
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals("10.0.0.1", o.data().get("master_addr"));
        assertEquals(dir.resolve(StepFiles.ARRIVAL).toString(), v.get("MUSTER_WAIT_ARRIVALS"));
        assertEquals("2", v.get("MUSTER_WAIT_WIDTH"));
        assertTrue(Set.of("hold", "sync", "open").contains(v.get("MUSTER_WAIT_POLICY")), v.get("MUSTER_WAIT_POLICY"));
        assertEquals(
                Long.toString(StepSyncTest.settings(StepSyncTest.LONG).pollMax().toNanos()),
                v.get("MUSTER_WAIT_POLL_MAX"));
        assertAbortOf(0, v.get("MUSTER_WAIT_ABORT_TERM"), 143, "rank 0 was stopped by SIGTERM while waiting");
    }

    private static void assertAbort(String encoded, int code, String reason) {
        assertAbortOf(1, encoded, code, reason);
    }

    private static void assertAbortOf(int rank, String encoded, int code, String reason) {
        byte[] b = encoded.getBytes(StandardCharsets.UTF_8);
        Outcome o = Outcome.decode(b, b.length, "the claim");
        assertEquals(Outcome.Kind.ABORT, o.kind());
        assertEquals(rank, o.rank());
        assertEquals(code, o.code());
        assertEquals(reason, o.reason());
    }

    @Test
    void connectedWithoutTrace_theTakerGetsNoTraceLine() throws Exception {
        List<CompletableFuture<StepSyncTest.Result>> fs = new ArrayList<>();
        fs.add(ranks.start(ranks.sync(0, 2, Transport.TCP).lastDepartureCleans(), Map.of()));
        ranks.awaitListening(2);
        StepSync one = ranks.sync(1, 2, Transport.TCP).lastDepartureCleans();
        Recorder taker = new Recorder(arrival(1, 2));
        one.handOver(taker);
        fs.add(ranks.start(one, Map.of()));
        StepSyncTest.assertAllSucceed(fs);
        assertNull(taker.taken.getNow(null).traceLine());
        assertEquals(List.of("prepare", "take", "cancel"), taker.events);
    }

    @Test
    void waitingByFiles_nothingIsHandedOver() {
        StepSync one = ranks.sync(1, 2, Transport.FILE).lastDepartureCleans();
        Recorder taker = new Recorder(arrival(1, 2));
        one.handOver(taker);
        List<CompletableFuture<StepSyncTest.Result>> fs = List.of(
                ranks.start(ranks.sync(0, 2, Transport.FILE).lastDepartureCleans(), Map.of()),
                ranks.start(one, Map.of()));
        StepSyncTest.assertAllSucceed(fs);
        assertEquals(List.of(), taker.events);
    }

    @Test
    void rank0CannotListen_theFollowersWaitByFiles_andNothingIsHandedOver() {
        List<CompletableFuture<StepSyncTest.Result>> fs = new ArrayList<>();
        Transport unusable = new Transport(Transport.Mode.TCP, "192.0.2.1"); // TEST-NET-1: bind() fails
        fs.add(ranks.start(
                new StepSync(
                                StepSyncTest.id(0, 2),
                                StepSyncTest.KEY,
                                root,
                                StepSyncTest.settings(StepSyncTest.LONG),
                                unusable,
                                null,
                                Map.of())
                        .lastDepartureCleans(),
                Map.of()));
        StepSync one = ranks.sync(1, 2, Transport.TCP).lastDepartureCleans();
        Recorder taker = new Recorder(arrival(1, 2));
        one.handOver(taker);
        fs.add(ranks.start(one, Map.of()));
        StepSyncTest.assertAllSucceed(fs);
        assertEquals(List.of(), taker.events);
    }

    /** The step as the waiter leaves it to the JVM it starts again: prepared, {@code arrived} ranks arrived. */
    StepSync resumed(int size, int... arrived) {
        for (int r : arrived) {
            FileBarrier fb = ranks.files(r, size);
            fb.prepare();
            fb.arrive();
        }
        return ranks.sync(1, size, Transport.TCP);
    }

    @Test
    void resume_outcome_anotherRanksAbort_isThrownWithItsCode() {
        StepSync one = resumed(3, 0, 1);
        byte[] abort = Outcome.abort(2, 9, "no GPU").encode();
        MusterException e = assertThrows(
                MusterException.class, () -> one.resume("outcome", new String(abort, StandardCharsets.UTF_8)));
        assertEquals(9, e.status());
        assertEquals("rank 2 aborted the barrier: no GPU (exit 9)", e.getMessage());
    }

    @Test
    void resume_outcome_notAnOutcome_isAnInternalError() {
        StepSync one = resumed(2, 0, 1);
        MusterException e = assertThrows(MusterException.class, () -> one.resume("outcome", "garbage"));
        assertEquals(ExitCodes.INTERNAL, e.status());
        assertTrue(e.getMessage().contains("the waiter handed back no outcome"), e.getMessage());
    }

    @Test
    void resume_closed_undecided_claimsRank0sLoss_forEveryTask() {
        StepSync one = resumed(2, 0, 1);
        MusterException e = assertThrows(MusterException.class, () -> one.resume("closed", "end of stream"));
        assertEquals(ExitCodes.PEER_ABORTED, e.status());
        assertEquals(
                "rank 0 aborted the barrier: its connection closed before the release (end of stream): rank 0 was"
                        + " killed, or its node failed (exit 76)",
                e.getMessage());
        Outcome claimed = ranks.files(0, 2).readOutcome();
        assertEquals(Outcome.Kind.ABORT, claimed.kind());
    }

    @Test
    void resume_closed_alreadyDecided_failsWithTheDecision() {
        StepSync one = resumed(3, 0, 1);
        ranks.files(2, 3).abort(5, "out of memory");
        MusterException e = assertThrows(MusterException.class, () -> one.resume("closed", "reset"));
        assertEquals(5, e.status());
        assertEquals("rank 2 aborted the barrier: out of memory (exit 5)", e.getMessage());
    }

    @Test
    void resume_deadline_afterRank0WentSilent_namesItUnresponsive_andTimesOutNamingTheMissing() {
        StepSync one = resumed(3, 0, 1);
        MusterException e = assertThrows(
                MusterException.class, () -> one.resume("deadline", Long.toString(TcpHello.SILENT_NANOS + 1)));
        assertEquals(ExitCodes.TIMEOUT, e.status());
        assertEquals(
                "barrier timed out after 20 s: 2/3 arrived, missing rank 2; check that every task starts muster (or"
                        + " raise --timeout)",
                e.getMessage());
        assertTrue(
                log.toString(StandardCharsets.UTF_8)
                        .contains(Log.prefix() + "error: rank 0 is unresponsive: nothing from it over TCP for 3 s"),
                log.toString(StandardCharsets.UTF_8));
        Outcome claimed = ranks.files(0, 3).readOutcome();
        assertEquals(Outcome.Kind.TIMEOUT, claimed.kind());
        assertEquals(1, claimed.rank());
    }

    @Test
    void resume_deadline_rank0HeardWithinTheSilenceBound_isNotCalledUnresponsive() {
        StepSync one = resumed(3, 0, 1);
        MusterException e =
                assertThrows(MusterException.class, () -> one.resume("deadline", Long.toString(TcpHello.SILENT_NANOS)));
        assertEquals(ExitCodes.TIMEOUT, e.status());
        assertFalse(
                log.toString(StandardCharsets.UTF_8).contains("unresponsive"), log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void resume_unknownKind_isAnInternalErrorNamingIt() {
        StepSync one = resumed(2, 0, 1);
        MusterException e = assertThrows(MusterException.class, () -> one.resume("bogus", ""));
        assertEquals(ExitCodes.INTERNAL, e.status());
        assertTrue(e.getMessage().contains("the waiter handed back 'bogus'"), e.getMessage());
        assertNull(ranks.files(0, 2).readOutcome(), "nothing is decided for a kind the waiter does not hand back");
    }
}
