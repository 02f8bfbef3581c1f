package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.muster.core.MusterException;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The words and exit codes every task ends a failed barrier with: who is missing and where, whose abort, why. */
class FailureReportTest {
    /** Ranks 0-3 on n1, 4-7 on n2, ... (block), none past rank 99. */
    private static final IntFunction<String> NODES = r -> r < 100 ? "n" + (r / 4 + 1) : null;

    private static FailureReport report(int rank, Duration timeout, IntFunction<String> nodes) {
        return new FailureReport(rank, 100, timeout, nodes);
    }

    private static MusterException timeout(IntFunction<String> nodes, Duration timeout, Integer... missing) {
        return report(1, timeout, nodes).of(Outcome.timeout(0, List.of(missing)), false);
    }

    @Test
    void timeout_namesTheMissingRanksAndTheirNodes_once_eachWith75() {
        MusterException one = timeout(NODES, Duration.ofSeconds(30), 5);
        assertEquals(75, one.status());
        assertEquals(
                "barrier timed out after 30 s: 99/100 arrived, missing rank 5 (expected on n2); check that every "
                        + "task starts muster (or raise --timeout)",
                one.getMessage());
        MusterException three = timeout(NODES, Duration.ofMillis(1500), 4, 5, 9);
        assertEquals(
                "barrier timed out after 1.500 s: 97/100 arrived, missing ranks 4,5,9 (expected on n2,n3); check "
                        + "that every task starts muster (or raise --timeout)",
                three.getMessage());
    }

    @Test
    void timeout_listsAtMostEightNodes_andNoNodesWhenSlurmDoesNotTell() {
        Integer[] spread = IntStream.range(0, 10).map(i -> i * 4).boxed().toArray(Integer[]::new);
        String m = timeout(NODES, Duration.ofSeconds(5), spread).getMessage();
        assertEquals(
                "barrier timed out after 5 s: 90/100 arrived, missing ranks 0,4,8,12,16,20,24,28,32,36 (expected on "
                        + "n1,n2,n3,n4,n5,n6,n7,n8,...); check that every task starts muster (or raise --timeout)",
                m);
        String eight = timeout(NODES, Duration.ofSeconds(5), 0, 4, 8, 12, 16, 20, 24, 28)
                .getMessage();
        assertEquals(true, eight.contains("(expected on n1,n2,n3,n4,n5,n6,n7,n8);"), eight);
        assertEquals(
                "barrier timed out after 5 s: 99/100 arrived, missing rank 100; check that every task starts muster "
                        + "(or raise --timeout)",
                timeout(NODES, Duration.ofSeconds(5), 100).getMessage(),
                "a rank Slurm did not place");
        assertEquals(
                "barrier timed out after 5 s: 99/100 arrived, missing rank 3; check that every task starts muster "
                        + "(or raise --timeout)",
                timeout(null, Duration.ofSeconds(5), 3).getMessage());
    }

    @Test
    void timeout_withEveryoneArrived_blamesRankZerosRelease() {
        MusterException e = timeout(NODES, Duration.ofSeconds(2));
        assertEquals(75, e.status());
        assertEquals(
                "barrier timed out after 2 s: all 100 arrived, but no release came from rank 0 (stopped, killed or "
                        + "starved of CPU?); check rank 0's output (or raise --timeout)",
                e.getMessage());
    }

    @Test
    void abort_sharesTheAbortersCode_orPeerAborted_andOnlyTheClaimantReportsItsReasonBare() {
        Outcome byThree = Outcome.abort(3, 127, "command not found: x");
        MusterException mine = report(3, Duration.ofSeconds(5), NODES).of(byThree, true);
        assertEquals(127, mine.status());
        assertEquals("command not found: x", mine.getMessage());
        String relayed = "rank 3 aborted the barrier: command not found: x (exit 127)";
        assertEquals(
                relayed,
                report(3, Duration.ofSeconds(5), NODES).of(byThree, false).getMessage());
        MusterException other = report(4, Duration.ofSeconds(5), NODES).of(byThree, true);
        assertEquals(127, other.status());
        assertEquals(relayed, other.getMessage());
        MusterException noCode = report(4, Duration.ofSeconds(5), NODES).of(Outcome.abort(3, 0, "gone"), false);
        assertEquals(76, noCode.status());
        assertEquals("rank 3 aborted the barrier: gone (exit 76)", noCode.getMessage());
        assertEquals(
                1,
                report(4, Duration.ofSeconds(5), NODES)
                        .of(Outcome.abort(3, 1, "x"), false)
                        .status());
    }

    @Test
    void unresponsive_namesTheRankItsNodeAndTheWholeSecondsOfSilence() {
        assertEquals(
                "rank 0 (on n1) is unresponsive: nothing from it over TCP for 3 s (its node or its network failed, or "
                        + "the task is stopped)",
                report(5, Duration.ofSeconds(5), NODES).unresponsive(0, 3_999_999_999L));
        assertEquals(
                "rank 0 is unresponsive: nothing from it over TCP for 4 s (its node or its network failed, or the "
                        + "task is stopped)",
                report(5, Duration.ofSeconds(5), null).unresponsive(0, 4_000_000_000L));
        assertEquals(
                true,
                report(5, Duration.ofSeconds(5), NODES).unresponsive(100, 1).startsWith("rank 100 is unresponsive"));
    }

    @Test
    void missing_isEveryRankBelowTheSizeNotArrived() {
        BitSet arrived = new BitSet();
        arrived.set(0);
        arrived.set(2);
        arrived.set(99);
        arrived.set(150);
        List<Integer> missing = report(0, Duration.ofSeconds(1), null).missing(arrived);
        assertEquals(97, missing.size());
        assertEquals(List.of(1, 3, 4), missing.subList(0, 3));
        assertEquals(98, missing.get(missing.size() - 1));
        BitSet all = new BitSet();
        all.set(0, 100);
        assertEquals(List.of(), report(0, Duration.ofSeconds(1), null).missing(all));
    }

    @Test
    void ranks_listsSixteen_thenSaysHowMany() {
        List<Integer> sixteen = IntStream.range(0, 16).boxed().toList();
        assertEquals("0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", FailureReport.ranks(sixteen));
        List<Integer> seventeen = IntStream.range(0, 17).boxed().toList();
        assertEquals("0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,... (17 in all)", FailureReport.ranks(seventeen));
    }

    @Test
    void secondsLeft_isWholeSecondsRoundedDown_neverNegative() {
        assertEquals(2, FailureReport.secondsLeft(2_999_999_999L, 0));
        assertEquals(0, FailureReport.secondsLeft(0, 1));
        assertEquals(0, FailureReport.secondsLeft(5, 5));
    }
}
