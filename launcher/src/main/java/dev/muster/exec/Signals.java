package dev.muster.exec;

import java.io.IOException;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Signal handling. Catching goes through {@code SunSignals} (the one class that touches {@code sun.misc.Signal},
 * compiled apart because javac's warning about it cannot be suppressed), created once by reflection and then
 * called through {@link Backend}: a reflective call per use would cost a cold JVM milliseconds of method-handle
 * spinning on the agent's premain path. QUIT cannot be
 * caught and USR2 is HotSpot's own: neither is used.
 */
public final class Signals {
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("HUP", 1),
            Map.entry("INT", 2),
            Map.entry("QUIT", 3),
            Map.entry("ILL", 4),
            Map.entry("TRAP", 5),
            Map.entry("ABRT", 6),
            Map.entry("BUS", 7),
            Map.entry("FPE", 8),
            Map.entry("KILL", 9),
            Map.entry("USR1", 10),
            Map.entry("SEGV", 11),
            Map.entry("USR2", 12),
            Map.entry("PIPE", 13),
            Map.entry("ALRM", 14),
            Map.entry("TERM", 15),
            Map.entry("STKFLT", 16),
            Map.entry("CHLD", 17),
            Map.entry("CONT", 18),
            Map.entry("STOP", 19),
            Map.entry("TSTP", 20),
            Map.entry("TTIN", 21),
            Map.entry("TTOU", 22),
            Map.entry("URG", 23),
            Map.entry("XCPU", 24),
            Map.entry("XFSZ", 25),
            Map.entry("VTALRM", 26),
            Map.entry("PROF", 27),
            Map.entry("WINCH", 28),
            Map.entry("IO", 29),
            Map.entry("PWR", 30),
            Map.entry("SYS", 31));

    /** The signals a waiting muster catches (abort marker) and the Java 17 fallback forwards. */
    public static final String[] CAUGHT = {"TERM", "INT", "HUP"};

    public static final String[] FORWARDED = {"TERM", "INT", "HUP", "USR1"};

    /** Signals HotSpot owns (or that cannot be caught): muster cannot die by them through {@code raise}. */
    private static final java.util.Set<String> JVM_OWNED =
            java.util.Set.of("SEGV", "BUS", "FPE", "ILL", "QUIT", "USR2", "TRAP", "KILL", "STOP");

    /**
     * The handler each signal had before muster first replaced it (the JVM's own, which runs the shutdown hooks),
     * so that the agent can hand TERM, INT and HUP back to the application after the wait.
     */
    private static final Map<String, Object> ORIGINAL = new java.util.concurrent.ConcurrentHashMap<>();

    private Signals() {}

    public static int number(String name) {
        Integer n = NUMBERS.get(name);
        return n == null ? -1 : n;
    }

    public static String name(int number) {
        for (Map.Entry<String, Integer> e : NUMBERS.entrySet()) {
            if (e.getValue() == number) {
                return e.getKey();
            }
        }
        return null;
    }

    /** What {@code SunSignals} implements, in the source root compiled apart. */
    public interface Backend {
        /** Installs {@code target} for signal {@code name}; returns the previous handler, or null if it was ours. */
        Object handle(String name, Consumer<String> target);

        /** Puts back a handler {@link #handle} returned. */
        void restore(String name, Object previous);

        /** Gives signal {@code name} its default disposition. */
        void reset(String name);

        /** Raises signal {@code name} in this thread; it must have a Java handler. */
        void raise(String name);
    }

    private static volatile Backend sun;

    /** The one SunSignals, created on first use. */
    private static Backend sun() throws ReflectiveOperationException {
        Backend b = sun;
        if (b == null) {
            b = (Backend) Class.forName("dev.muster.exec.SunSignals")
                    .getDeclaredConstructor()
                    .newInstance();
            sun = b;
        }
        return b;
    }

    /** Installs {@code handler} for signal {@code name}; false when the JVM refuses. */
    public static boolean handle(String name, Consumer<String> handler) {
        try {
            Object previous = sun().handle(name, handler);
            if (previous != null) {
                ORIGINAL.putIfAbsent(name, previous);
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Gives each of {@code names} back the handler it had before muster's first {@link #handle}; false when one
     * could not be restored. Signals muster never handled are left alone.
     */
    public static boolean restoreOriginal(String... names) {
        boolean all = true;
        for (String name : names) {
            Object previous = ORIGINAL.get(name);
            if (previous == null) {
                continue;
            }
            try {
                sun().restore(name, previous);
            } catch (ReflectiveOperationException | RuntimeException e) {
                all = false;
            }
        }
        return all;
    }

    /**
     * Ends this process by signal {@code number}, as the program it stands for did: default disposition, then
     * raise. Where the JVM owns the signal, exits with 128 + n instead (DESIGN §7).
     */
    public static void dieBy(int number) {
        String name = name(number);
        System.out.flush();
        System.err.flush();
        if (name != null && (!JVM_OWNED.contains(name) || name.equals("KILL"))) {
            // Default disposition first, then the signal from outside: sun.misc.Signal.raise refuses a signal
            // that has no Java handler, and SIG_DFL is not one.
            if (!name.equals("KILL")) {
                try {
                    sun().reset(name);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    Runtime.getRuntime().halt(128 + number);
                }
            }
            send(dev.muster.core.Posix.pid(), name);
            try {
                Thread.sleep(2000); // delivery is asynchronous
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Runtime.getRuntime().halt(128 + number);
    }

    /** Sends signal {@code name} to process {@code pid} (there is no JDK call for any signal but TERM and KILL). */
    public static void send(long pid, String name) {
        try {
            new ProcessBuilder("kill", "-s", name, Long.toString(pid))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start()
                    .waitFor();
        } catch (IOException e) {
            if (name.equals("TERM")) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Raises {@code name} with a handler of its own, to be awaited later ({@link Marker#await}); null when the JVM
     * refuses. HotSpot dispatches the signals it has queued one at a time, lowest number first: once the handler
     * of {@code name} ran, the handler of every lower signal queued before the raise has been started.
     */
    public static Marker mark(String name) {
        java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
        try {
            Object previous = sun().handle(name, new Consumer<String>() {
                @Override
                public void accept(String s) {
                    ran.countDown();
                }
            });
            Marker m = new Marker(name, previous, ran);
            sun().raise(name);
            return m;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** A signal raised by {@link #mark}. */
    public static final class Marker {
        private final String name;
        private final Object previous;
        private final java.util.concurrent.CountDownLatch ran;

        private Marker(String name, Object previous, java.util.concurrent.CountDownLatch ran) {
            this.name = name;
            this.previous = previous;
            this.ran = ran;
        }

        /**
         * Waits up to {@code millis} for the handler, then gives the signal its previous handler back; false when
         * the handler did not run in time.
         */
        public boolean await(long millis) {
            boolean done;
            try {
                done = ran.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                done = false;
            }
            try {
                if (previous != null) {
                    sun().restore(name, previous);
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                // the handler left in place only counts down a latch nobody waits for
            }
            return done;
        }
    }
}
