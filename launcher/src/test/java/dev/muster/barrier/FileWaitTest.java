package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file protocol's wait loop (FileWait) and rank 0's single look (FileBarrier#leaderRound), every task on one
 * manual clock on the test's thread: the pauses, the deadline to the nanosecond, the progress reports.
 */
@Timeout(30)
class FileWaitTest {
    @TempDir
    java.nio.file.Path root;

    private final ManualClock clock = new ManualClock();

    private static final long MS = 1_000_000L;

    /** Timeout 2 s, others poll up to 100 ms, rank 0 up to 10 ms, progress every 60 s. */
    private static final BarrierSettings S = new BarrierSettings(
            Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofMillis(10), Duration.ofSeconds(60));

    private FileBarrier task(int rank, int size, BarrierSettings s) {
        FileBarrier b = new FileBarrier(root, "k", rank, size, "h", s, clock, new Random(rank), r -> "n" + r);
        b.prepare();
        return b;
    }

    private static Runnable io(dev.muster.testing.Io.Action a) {
        return dev.muster.testing.Io.unchecked(a);
    }

    @Test
    void rank0_timesOutExactlyAtItsDeadline_namingTheMissing_andPollsNoSlowerThanLeaderPoll() {
        FileBarrier leader = task(0, 3, S);
        task(2, 3, S).arrive();
        leader.arrive();
        long deadline = leader.deadlineNanos();
        MusterException e = assertThrows(MusterException.class, () -> leader.await(Map.of()));
        assertEquals(ExitCodes.TIMEOUT, e.status());
        assertTrue(e.getMessage().contains("missing rank 1 (expected on n1)"), e.getMessage());
        assertEquals(deadline, clock.nanoTime(), "timed out at the deadline, not a pause later");
        assertTrue(Collections.max(clock.sleeps()) <= 10 * MS, "rank 0's pauses: " + clock.sleeps());
    }

    @Test
    void otherRank_timesOutExactlyAtItsDeadline_andPollsUpToPollMax() throws IOException {
        FileBarrier waiter = task(1, 2, S);
        waiter.arrive();
        long deadline = waiter.deadlineNanos();
        MusterException e = assertThrows(MusterException.class, () -> waiter.await(Map.of()));
        assertEquals(ExitCodes.TIMEOUT, e.status());
        assertEquals(deadline, clock.nanoTime(), "timed out at the deadline, not a pause later");
        long longest = Collections.max(clock.sleeps());
        assertTrue(longest > 10 * MS && longest <= 100 * MS, "pauses: " + clock.sleeps());
        assertEquals(0, Descriptors.under(root.toRealPath()), "its own timeout written: nothing is polled any more");
    }

    @Test
    void rank0_releasesWhenTheLastArrivalFileComes() throws Exception {
        FileBarrier leader = task(0, 2, S);
        FileBarrier other = task(1, 2, S);
        leader.arrive();
        clock.at(300, other::arrive);
        Outcome o = leader.await(Map.of("master_addr", "n0"));
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals("n0", o.data().get("master_addr"));
        assertTrue(clock.elapsedMillis() >= 300 && clock.elapsedMillis() <= 310, clock.elapsedMillis() + " ms");
        assertEquals(o, other.readOutcome(), "written for the others");
        assertTrue(!leader.arrivedAt().isAfter(leader.releasedAt()), "arrived before released");
    }

    @Test
    void otherRank_atItsDeadline_losesTheClaimToRank0_andIsReleased() throws Exception {
        FileBarrier waiter = task(1, 2, S);
        waiter.arrive();
        long timeoutMs = S.timeout().toMillis();
        // rank 0 has claimed the outcome and writes it just after this task's deadline
        clock.at(timeoutMs - 50, io(() -> Files.createFile(waiter.files().claim())));
        clock.at(
                timeoutMs + 5,
                io(() -> StepFiles.fill(
                        waiter.files().outcomeFile,
                        Outcome.release(0, Map.of("k", "late")).encode())));
        Outcome o = waiter.await(Map.of());
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals("late", o.data().get("k"));
    }

    @Test
    void ownTimeout_afterTheOutcomeIsDecided_takesIt() {
        FileBarrier waiter = task(1, 2, S);
        waiter.arrive();
        task(0, 2, S).decide(Outcome.release(0, Map.of("k", "first")));
        Outcome o = waiter.ownTimeout();
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals("first", o.data().get("k"));
    }

    @Test
    void otherRank_reportsItsWait_atHalfTheProgressInterval_thenEveryThreeIntervals() {
        BarrierSettings s = new BarrierSettings(
                Duration.ofSeconds(70), Duration.ofSeconds(1), Duration.ofMillis(250), Duration.ofSeconds(10));
        FileBarrier waiter = task(1, 2, s);
        waiter.arrive();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Log.to(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(
                    ExitCodes.TIMEOUT,
                    assertThrows(MusterException.class, () -> waiter.await(Map.of()))
                            .status());
        } finally {
            Log.to(System.err);
        }
        List<String> progress = err.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(l -> l.contains("waiting for the release from rank 0"))
                .collect(Collectors.toList());
        // at 5 s, 35 s and 65 s of 70 (rounded down, and each report may come up to one pause, 1 s, late)
        assertEquals(3, progress.size(), String.join("\n", progress));
        String[] left = {"(64|65)", "(33|34|35)", "(2|3|4|5)"};
        for (int i = 0; i < 3; i++) {
            assertTrue(
                    progress.get(i).matches(".*waiting for the release from rank 0 \\(" + left[i] + " s left\\)"),
                    progress.get(i));
        }
    }

    @Test
    void leaderRound_returnsADecidedOutcome_asIs() {
        FileBarrier leader = task(0, 2, S);
        leader.arrive();
        task(1, 2, S).abort(127, "rank 1: command not found: x");
        Outcome o = leader.leaderRound(new BitSet(), Map.of(), clock.nanoTime());
        assertEquals(Outcome.Kind.ABORT, o.kind());
        assertEquals(127, o.code());
    }

    @Test
    void leaderRound_releasesOnceEveryArrivalIsListed() {
        FileBarrier leader = task(0, 2, S);
        leader.arrive();
        BitSet arrived = new BitSet();
        assertNull(leader.leaderRound(arrived, Map.of("a", "b"), clock.nanoTime()));
        task(1, 2, S).arrive();
        Outcome o = leader.leaderRound(arrived, Map.of("a", "b"), clock.nanoTime());
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals("b", o.data().get("a"));
    }

    @Test
    void leaderRound_timesOutAtTheDeadline_notBefore() {
        FileBarrier leader = task(0, 3, S);
        leader.arrive();
        BitSet arrived = new BitSet();
        assertNull(leader.leaderRound(arrived, Map.of(), leader.deadlineNanos() - 1));
        Outcome o = leader.leaderRound(arrived, Map.of(), leader.deadlineNanos());
        assertEquals(Outcome.Kind.TIMEOUT, o.kind());
        assertEquals(List.of(1, 2), o.missing());
    }

    @Test
    void depart_leavesTheDepartureFile_andNoDescriptor() throws IOException {
        FileBarrier b = task(1, 2, S);
        b.depart();
        assertTrue(Files.isRegularFile(root.resolve("k/departure/1")));
        assertEquals(0, Descriptors.under(root.toRealPath()));
        assertEquals(root.resolve("k"), b.dir());
    }

    @Test
    void unresponsiveLeader_namesRank0sNode_andTheSilence() {
        assertEquals(
                "rank 0 (on n0) is unresponsive: nothing from it over TCP for 12 s (its node or its network failed, "
                        + "or the task is stopped)",
                task(1, 2, S).unresponsiveLeader(12_500_000_000L));
    }

    @Test
    void retries_growByTheirFactor_withPausesWithinHalfAndOneAndAHalfSteps() {
        dev.muster.core.Backoff b = task(1, 2, S).retries(MS, 4);
        long step = MS;
        for (int i = 0; i < 4; i++) {
            long p = b.next();
            assertTrue(p >= step / 2 && p < step * 3 / 2, "pause " + i + ": " + p + " ns for step " + step);
            step *= 4;
        }
    }
}
