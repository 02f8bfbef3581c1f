package dev.muster.exec;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Signal handling through {@code sun.misc.Signal}, reached reflectively: it is the only JDK way to catch TERM, INT,
 * HUP and USR1, and a direct reference draws an "internal proprietary API" warning that cannot be suppressed
 * (the build treats warnings as errors). QUIT cannot be caught and USR2 is HotSpot's own: neither is used.
 */
public final class Signals {
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(Map.entry("HUP", 1), Map.entry("INT", 2),
            Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5), Map.entry("ABRT", 6),
            Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9), Map.entry("USR1", 10),
            Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14),
            Map.entry("TERM", 15), Map.entry("STKFLT", 16), Map.entry("CHLD", 17), Map.entry("CONT", 18),
            Map.entry("STOP", 19), Map.entry("TSTP", 20), Map.entry("TTIN", 21), Map.entry("TTOU", 22),
            Map.entry("URG", 23), Map.entry("XCPU", 24), Map.entry("XFSZ", 25), Map.entry("VTALRM", 26),
            Map.entry("PROF", 27), Map.entry("WINCH", 28), Map.entry("IO", 29), Map.entry("PWR", 30),
            Map.entry("SYS", 31));

    /** The signals a waiting muster catches (abort marker) and the Java 17 fallback forwards. */
    public static final String[] CAUGHT = {"TERM", "INT", "HUP"};
    public static final String[] FORWARDED = {"TERM", "INT", "HUP", "USR1"};

    /** Signals HotSpot owns (or that cannot be caught): muster cannot die by them through {@code raise}. */
    private static final java.util.Set<String> JVM_OWNED = java.util.Set.of("SEGV", "BUS", "FPE", "ILL", "QUIT",
            "USR2", "TRAP", "KILL", "STOP");

    private Signals() {
    }

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

    /** Installs {@code handler} for signal {@code name}; false when the JVM refuses. */
    public static boolean handle(String name, Consumer<String> handler) {
        try {
            Class<?> sig = Class.forName("sun.misc.Signal");
            Class<?> iface = Class.forName("sun.misc.SignalHandler");
            Object signal = sig.getConstructor(String.class).newInstance(name);
            Object proxy = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {iface},
                    (self, method, args) -> {
                        switch (method.getName()) {
                            case "handle":
                                handler.accept(name);
                                return null;
                            case "hashCode":
                                return System.identityHashCode(self);
                            case "equals":
                                return self == args[0];
                            default:
                                return "muster signal handler for " + name;
                        }
                    });
            sig.getMethod("handle", sig, iface).invoke(null, signal, proxy);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Ends this process by signal {@code number}, as the program it stands for did: default disposition, then
     * raise. Where the JVM owns the signal, exits with 128 + n instead (DESIGN §7).
     */
    public static void dieBy(int number) {
        String name = name(number);
        System.out.flush();
        System.err.flush();
        if (name != null && !JVM_OWNED.contains(name)) {
            try {
                Class<?> sig = Class.forName("sun.misc.Signal");
                Class<?> iface = Class.forName("sun.misc.SignalHandler");
                Object signal = sig.getConstructor(String.class).newInstance(name);
                Object dfl = iface.getField("SIG_DFL").get(null);
                sig.getMethod("handle", sig, iface).invoke(null, signal, dfl);
                Method raise = sig.getMethod("raise", sig);
                raise.invoke(null, signal);
                // delivery is asynchronous to this thread
                Thread.sleep(2000);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // fall through to the exit code
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else if ("KILL".equals(name)) {
            try {
                new ProcessBuilder("kill", "-KILL", Long.toString(dev.muster.core.Posix.pid())).start().waitFor();
                Thread.sleep(2000);
            } catch (IOException | InterruptedException e) {
                // fall through
            }
        }
        Runtime.getRuntime().halt(128 + number);
    }

    /** Sends signal {@code name} to process {@code pid} (there is no JDK call for any signal but TERM and KILL). */
    public static void send(long pid, String name) {
        try {
            new ProcessBuilder("kill", "-s", name, Long.toString(pid)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException e) {
            if (name.equals("TERM")) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
