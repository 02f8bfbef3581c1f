package dev.muster.exec;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * What a task connected to rank 0 over TCP hands to a small waiter that waits in its place (docs/barrier.md, "The
 * small waiter"): the connection (by its ports, to find its descriptor), the deadline and the progress schedule
 * on {@link System#nanoTime}'s scale (CLOCK_MONOTONIC on Linux, so the waiter continues them), and the files it
 * writes after the release.
 *
 * @param localPort     the connection's port on this node
 * @param remotePort    rank 0's port, or {@link #LISTENER} when rank 0 hands over its listener on {@code localPort}
 * @param deadlineNanos this task's deadline
 * @param heardNanos    when rank 0 last sent anything
 * @param progressNanos when the next progress line is due; then every {@code everyNanos}
 * @param departure     the departure file, made after the release
 * @param traceLine     the trace line up to {@code release_us=} (without it), or null without --trace
 * @param quiet         true while this JVM holds nothing rank 0 sent past its ok but heartbeats: asked right
 *     before the exec, which does not happen otherwise. It reads nothing: a release already in the socket is
 *     the waiter's to read, at once
 * @param stopping      true once this task's TERM/INT/HUP handler has begun: the JVM then ends the task, not a
 *     waiter (docs/barrier.md, "The small waiter": signals during the hand-off)
 * @param abortClaim    {@code MUSTER_WAIT_*} variables with which the waiter claims this task's abort for a signal
 *     before it starts the JVM again (WaiterHandOff#abortClaim)
 */
public record Handover(
        int localPort,
        int remotePort,
        long deadlineNanos,
        long heardNanos,
        long progressNanos,
        long everyNanos,
        Path departure,
        String traceLine,
        BooleanSupplier quiet,
        BooleanSupplier stopping,
        Map<String, String> abortClaim) {

    /** {@link #remotePort} of rank 0's hand-off: the descriptor is its listener, not a connection. */
    public static final int LISTENER = -1;

    /** Takes the wait over; returns only when it cannot (the task then waits in its JVM). */
    public interface Taker {
        /**
         * Called before the arrival file is written when {@link #take} follows: what can overlap that write (the
         * signals taken from the JVM, {@link SignalGate#close}).
         */
        default void prepare() {}

        /** Undoes {@link #prepare} when {@link #take} returned or was never called (a no-op after an undo). */
        default void cancel() {}

        void take(Handover h);
    }
}
