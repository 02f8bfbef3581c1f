package dev.muster.barrier;

import dev.muster.core.Log;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The soak's {@code --trace}: muster's own debug lines and the soak's events of one in-process barrier, each
 * stamped with the milliseconds since the barrier started and the thread that wrote it, kept in memory and printed
 * only for a barrier that failed. The participants of many barriers share one JVM and one {@link Log}, so each
 * line goes to the trace of the thread that wrote it: a participant binds its barrier's trace when it starts, and
 * the threads it starts itself (rank 0's listener) inherit it.
 */
final class SoakTrace {
    private static final InheritableThreadLocal<SoakTrace> CURRENT = new InheritableThreadLocal<>();
    private static volatile boolean installed;

    private final long started = System.nanoTime();
    private final List<String> lines = new ArrayList<>();

    /** Routes muster's log lines to the trace of the thread that writes them (others go to stderr as before). */
    static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        PrintStream stderr = System.err;
        Log.level(Log.Level.VERBOSE);
        Log.to(new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8) {
            @Override
            public void print(String s) {
                SoakTrace t = CURRENT.get();
                if (t == null) {
                    stderr.print(s);
                } else {
                    t.add(s.endsWith("\n") ? s.substring(0, s.length() - 1) : s);
                }
            }
        });
    }

    /** The calling thread (and the threads it starts from now on) writes to {@code t}; null: to nobody's. */
    static void bind(SoakTrace t) {
        if (t == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(t);
        }
    }

    /** Adds one line, stamped, to the trace of the calling thread, if it has one. */
    static void event(String what) {
        SoakTrace t = CURRENT.get();
        if (t != null) {
            t.add(what);
        }
    }

    synchronized void add(String line) {
        long ms = (System.nanoTime() - started) / 1_000_000L;
        lines.add(String.format("%+7d ms %-18s %s", ms, Thread.currentThread().getName(), line));
    }

    /** Milliseconds since the barrier started, for lines the harness adds from elsewhere. */
    long since(long nanos) {
        return (nanos - started) / 1_000_000L;
    }

    synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /**
     * How long this thread has waited on a run queue (runnable, but not running) and run, in nanoseconds, from
     * the kernel's schedstat; null where it cannot be read (not Linux, or schedstats compiled out).
     */
    static long[] schedstat() {
        try {
            String[] f = Files.readString(Path.of("/proc/thread-self/schedstat"))
                    .trim()
                    .split(" ");
            return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** The calling thread's id in the kernel, or 0 where /proc/thread-self cannot be read. */
    static int tid() {
        try {
            return Integer.parseInt(Files.readSymbolicLink(Path.of("/proc/thread-self"))
                    .getFileName()
                    .toString());
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Run-queue wait so far of thread {@code tid} of this process, in nanoseconds; -1 when unknown. */
    static long waitOf(int tid) {
        if (tid <= 0) {
            return -1;
        }
        try {
            String[] f = Files.readString(Path.of("/proc/self/task/" + tid + "/schedstat"))
                    .trim()
                    .split(" ");
            return Long.parseLong(f[1]);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * How late a thread of this JVM that only sleeps 10 ms at a time wakes up, over time: what any thread that
     * asks for the CPU waits for it here (run queue, safepoints, garbage collection). Started by the soak.
     */
    static final class Stalls {
        private static final int SLOTS = 1 << 16;
        private static final long[] at = new long[SLOTS];
        private static final long[] late = new long[SLOTS];
        private static long next;
        private static boolean started;

        private Stalls() {}

        static synchronized void start() {
            if (started) {
                return;
            }
            started = true;
            Thread t = new Thread(
                    () -> {
                        while (true) {
                            long before = System.nanoTime();
                            try {
                                Thread.sleep(10);
                            } catch (InterruptedException e) {
                                return;
                            }
                            long now = System.nanoTime();
                            long l = now - before - 10_000_000L;
                            if (l > 50_000_000L) {
                                record(before, l);
                            }
                        }
                    },
                    "soak-stalls");
            t.setDaemon(true);
            t.setPriority(Thread.MAX_PRIORITY);
            t.start();
        }

        private static synchronized void record(long when, long lateness) {
            int i = (int) (next++ % SLOTS);
            at[i] = when;
            late[i] = lateness;
        }

        /** The longest stall and the sum of stalls longer than 50 ms that began within [from, to], in ms. */
        static synchronized long[] within(long from, long to) {
            long max = 0;
            long sum = 0;
            for (long k = Math.max(0, next - SLOTS); k < next; k++) {
                int i = (int) (k % SLOTS);
                if (at[i] + late[i] >= from && at[i] <= to) {
                    max = Math.max(max, late[i]);
                    sum += late[i];
                }
            }
            return new long[] {max / 1_000_000L, sum / 1_000_000L};
        }
    }
}
