package dev.muster.barrier;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The failures a barrier ends in, as every task reports them: the timeout (who is missing, and on which node
 * Slurm expected them) and the abort (whose, why, and the exit code every task of the step shares).
 */
final class FailureReport {
    private final int rank;
    private final int size;
    private final Duration timeout;
    private final IntFunction<String> expectedNode;

    /** @param expectedNode rank → node Slurm placed it on, or null when unknown ({@link StepLayout}) */
    FailureReport(int rank, int size, Duration timeout, IntFunction<String> expectedNode) {
        this.rank = rank;
        this.size = size;
        this.timeout = timeout;
        this.expectedNode = expectedNode;
    }

    /** The failure {@code o} (a timeout or an abort) stands for; {@code mine}: this task claimed it. */
    MusterException of(Outcome o, boolean mine) {
        if (o.kind() == Outcome.Kind.TIMEOUT && o.missing().isEmpty() && o.rank() != 0 && o.rank() != rank) {
            // another task's deadline came while every arrival file was there but rank 0 had not decided
            return new MusterException(
                    ExitCodes.TIMEOUT,
                    "barrier timed out: rank " + o.rank() + "'s deadline (" + seconds(timeout) + " s after its "
                            + "arrival) came with all " + size + " arrived, before rank 0 had released them (rank 0 "
                            + "stopped or starved of CPU?); check rank 0's output (or raise --timeout)");
        }
        if (o.kind() == Outcome.Kind.TIMEOUT && o.missing().isEmpty()) {
            // every arrival file is there, yet no release came by this task's deadline: rank 0 is stuck or gone
            return new MusterException(
                    ExitCodes.TIMEOUT,
                    "barrier timed out after " + seconds(timeout) + " s: all "
                            + size + " arrived, but no release came from rank 0 (stopped, killed or starved of CPU?); "
                            + "check rank 0's output (or raise --timeout)");
        }
        if (o.kind() == Outcome.Kind.TIMEOUT) {
            return new MusterException(
                    ExitCodes.TIMEOUT,
                    "barrier timed out after " + seconds(timeout) + " s: "
                            + (size - o.missing().size()) + "/" + size + " arrived, missing " + describe(o.missing())
                            + "; check that every task starts muster (or raise --timeout)");
        }
        int code = o.code() > 0 ? o.code() : ExitCodes.PEER_ABORTED;
        if (o.rank() == rank && mine) {
            return new MusterException(code, o.reason());
        }
        return new MusterException(
                code, "rank " + o.rank() + " aborted the barrier: " + o.reason() + " (exit " + code + ")");
    }

    /** A connected rank ({@code other}, rank 0 for its followers) that has sent nothing for {@code silentNanos}. */
    String unresponsive(int other, long silentNanos) {
        String node = expectedNode == null ? null : expectedNode.apply(other);
        return "rank " + other + (node == null ? "" : " (on " + node + ")") + " is unresponsive: nothing from it over "
                + "TCP for " + silentNanos / 1_000_000_000L + " s (its node or its network failed, or the task is "
                + "stopped)";
    }

    /** The ranks below {@code size} that {@code arrived} lacks. */
    List<Integer> missing(BitSet arrived) {
        List<Integer> out = new ArrayList<>();
        for (int r = arrived.nextClearBit(0); r < size; r = arrived.nextClearBit(r + 1)) {
            out.add(r);
        }
        return out;
    }

    private String describe(List<Integer> missing) {
        StringBuilder b = new StringBuilder(missing.size() == 1 ? "rank " : "ranks ").append(ranks(missing));
        if (expectedNode != null) {
            List<String> nodes = new ArrayList<>();
            for (int r : missing) {
                String n = expectedNode.apply(r);
                if (n != null && !nodes.contains(n)) {
                    nodes.add(n);
                }
            }
            if (!nodes.isEmpty()) {
                b.append(" (expected on ")
                        .append(String.join(",", nodes.subList(0, Math.min(8, nodes.size()))))
                        .append(nodes.size() > 8 ? ",..." : "")
                        .append(')');
            }
        }
        return b.toString();
    }

    /** Up to 16 ranks, then how many in all: for progress lines and messages. */
    static String ranks(List<Integer> ranks) {
        if (ranks.size() <= 16) {
            return Outcome.joinRanks(ranks);
        }
        return Outcome.joinRanks(ranks.subList(0, 16)) + ",... (" + ranks.size() + " in all)";
    }

    static long secondsLeft(long deadline, long now) {
        return Math.max(0, (deadline - now) / 1_000_000_000L);
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : String.format("%.3f", d.toMillis() / 1e3);
    }
}
