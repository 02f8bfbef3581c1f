package dev.muster.exec;

import dev.muster.core.Log;
import dev.muster.core.NativeLibrary;
import java.util.function.BooleanSupplier;

/**
 * TERM, INT and HUP across the exec of the small waiter (docs/barrier.md, "The small waiter": signals during the
 * hand-off). HotSpot's handler only queues a signal for its Signal Dispatcher thread, which starts a Java handler
 * thread: the exec of the waiter ends them all, and a signal still on that way would be lost (the task would run
 * its program as if never stopped). So before the exec libmuster.so takes the three signals from HotSpot into a
 * pipe the waiter inherits and reads as its own, and what HotSpot took before that is flushed through its queue:
 * the exec goes ahead only when no handler of them has begun.
 *
 * <p>{@link #close} comes before the arrival file is written and {@link #admit} right before the exec, so that
 * HotSpot's queue is flushed while the file is written rather than on the way to the exec (for the last task to
 * arrive, the release follows within milliseconds and waits for the exec). Every path that does not exec calls
 * {@link #open}. One hand-off per process: the state is static.
 */
public final class SignalGate {
    private static final int[] CAUGHT = {15, 2, 1}; // TERM, INT, HUP
    /** Higher than the three: its handler runs only after theirs were started (Signals#mark). */
    private static final String MARKER = "WINCH";

    private static final long MARKER_MILLIS = 2000;

    /** The pipe's read end while the three are taken from HotSpot, else -1. */
    private static int fd = -1;

    private static Signals.Marker marker;

    private SignalGate() {}

    /**
     * Takes TERM, INT and HUP from HotSpot and raises the marker; nothing without libmuster.so (then {@link #admit}
     * says no).
     */
    public static void close() {
        if (fd >= 0 || !NativeLibrary.loaded()) {
            return;
        }
        int r = NativeLibrary.catchSignals(CAUGHT);
        if (r < 0) {
            Log.debug("cannot take TERM, INT and HUP for the small waiter (errno " + -r + "): waiting in the JVM");
            return;
        }
        fd = r;
        marker = Signals.mark(MARKER);
    }

    /**
     * After {@link #close}: the pipe's read end when the exec may go ahead, else -1 with the signals given back to
     * HotSpot (not closed, this task's handler has begun, or HotSpot's queue could not be seen flushed).
     *
     * @param stopping true once this task's own handler of the three has begun
     */
    static int admit(BooleanSupplier stopping) {
        if (fd < 0) {
            return -1;
        }
        boolean flushed = marker != null && marker.await(MARKER_MILLIS);
        marker = null;
        boolean begun = stopping.getAsBoolean() || handlerStarted();
        if (flushed && !begun) {
            return fd;
        }
        Log.debug(
                begun
                        ? "stopped by a signal during the hand-off: the JVM ends the task"
                        : "HotSpot's signal queue did not answer in time: waiting in the JVM");
        // a handler that has begun ends the task by its own signal: raising what came since would only report twice
        open(!begun);
        return -1;
    }

    /**
     * Gives TERM, INT and HUP back to HotSpot, if taken, and, when {@code raise}, sends this process those that
     * came in between: to the process, not this thread, which a failed exec may leave with them blocked.
     */
    public static void open(boolean raise) {
        if (fd < 0) {
            return;
        }
        fd = -1;
        if (marker != null) {
            marker.await(0); // its previous handler back
            marker = null;
        }
        byte[] caught = NativeLibrary.restoreSignals();
        for (int i = 0; raise && caught != null && i < caught.length; i++) {
            String name = Signals.name(caught[i]);
            if (name != null) {
                Signals.send(dev.muster.core.Posix.pid(), name);
            }
        }
    }

    /** Whether HotSpot has started the Java handler thread of TERM, INT or HUP ({@code SIG<name> handler}). */
    private static boolean handlerStarted() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] threads = new Thread[root.activeCount() + 16];
        int n = root.enumerate(threads, true);
        for (int i = 0; i < n; i++) {
            String name = threads[i].getName();
            if (threads[i].isAlive()
                    && (name.equals("SIGTERM handler")
                            || name.equals("SIGINT handler")
                            || name.equals("SIGHUP handler"))) {
                return true;
            }
        }
        return false;
    }
}
