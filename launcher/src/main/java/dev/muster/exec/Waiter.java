package dev.muster.exec;

import dev.muster.core.Log;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The small waiter ({@code native/muster-wait.c}): once a task is connected to rank 0 over TCP, muster execs it
 * (same PID) with the connection as an inherited descriptor, so that the JVM's teardown happens while waiting
 * rather than between the release and the program. The JVM works out everything beforehand and hands it over
 * in {@code MUSTER_WAIT_*} variables (the environment, unlike the command line, is private to the user):
 * docs/barrier.md, "The small waiter".
 */
public final class Waiter {
    /** Set by the waiter when it starts the JVM again to end the task (see {@code resume} in the C source). */
    public static final String RESUME = "MUSTER_WAIT_RESUME";

    public static final String DETAIL = "MUSTER_WAIT_DETAIL";
    /**
     * {@link #RESUME} of a waiter whose hello rank 0 closed unanswered with nothing decided: the JVM started again
     * waits anew, in itself (docs/barrier.md, "The small waiter").
     */
    public static final String REFUSED = "refused";
    /** A path overrides where the waiter is looked for; {@code 0} turns it off, as {@code --no-waiter}. */
    public static final String OVERRIDE = "MUSTER_WAITER";

    static final String NAME = "muster-wait";

    private Waiter() {}

    /**
     * The waiter's path: {@code $MUSTER_WAITER}, else beside the jar in {@code native/linux-<arch>/} (the
     * installed {@code lib/}), else the source tree's {@code target/native/linux-<arch>/}; null when none is an
     * executable file, or {@code MUSTER_WAITER=0}.
     */
    public static Path find(Map<String, String> env) {
        String o = env.get(OVERRIDE);
        if ("0".equals(o)) {
            return null;
        }
        if (o != null && !o.isEmpty()) {
            Path p = Path.of(o);
            return Files.isRegularFile(p) && Files.isExecutable(p) ? p : null;
        }
        String cp = System.getProperty("java.class.path", "");
        if (cp.isEmpty() || cp.contains(java.io.File.pathSeparator)) {
            return null;
        }
        Path jarDir = Path.of(cp).toAbsolutePath().getParent();
        if (jarDir == null) {
            return null;
        }
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String dir = "linux-" + (arch.equals("amd64") ? "x86_64" : arch);
        for (Path p : new Path[] {
            jarDir.resolve("native").resolve(dir).resolve(NAME),
            jarDir.resolve("../../target/native").resolve(dir).resolve(NAME).normalize()
        }) {
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * What the waiter's exec needs that is known before the task connects: the task's environment with the
     * {@code MUSTER_WAIT_*} variables that do not depend on the connection, or null when this JVM's command line
     * (for the waiter to start it again) cannot be read. Worked out before the hello, so that the hand-off after
     * rank 0's {@code ok} is only the exec: for the last task to arrive, the release follows within milliseconds.
     */
    public static Map<String, String> environment(WaiterPlan plan) {
        List<String> jvm = jvmCommand();
        if (jvm == null) {
            return null;
        }
        Map<String, String> env = new TreeMap<>(plan.env());
        env.put("MUSTER_WAIT_PREFIX", Log.prefix());
        if (Log.level() == Log.Level.QUIET) {
            env.put("MUSTER_WAIT_QUIET", "1");
        }
        if (Log.verbose()) {
            env.put("MUSTER_WAIT_DEBUG", "1");
        }
        env.put("MUSTER_WAIT_SET", lines(plan.exports()));
        env.put("MUSTER_WAIT_MAP", String.join("\n", plan.releaseKeys()));
        if (plan.trace() != null) {
            env.put("MUSTER_WAIT_TRACE", plan.trace().toAbsolutePath().toString());
        }
        env.put("MUSTER_WAIT_JVM", escapedLines(jvm));
        env.put("MUSTER_WAIT_SIGMASK", Long.toString(Math.max(0, Exec.originalSigmask())));
        return env;
    }

    /**
     * Execs the waiter; returns only when it cannot (then the task waits in its JVM).
     *
     * @param plan the program, its argv, the task's own environment, the variables known before the release
     *     ({@code exports}) and the release keys that become variables ({@code releaseKeys}: key → variable)
     * @param prepared {@link #environment(WaiterPlan)}'s result for {@code plan}
     * @param h the connection, the deadline and the progress schedule, and the files written after the release
     */
    public static void exec(WaiterPlan plan, Map<String, String> prepared, Handover h) {
        Exec.warnIfFdLimitRaised(); // the program inherits the limit through the waiter as well
        int fd = Sockets.fdOf(h.localPort(), h.remotePort());
        if (fd < 3 || prepared == null) {
            SignalGate.open(true);
            Log.debug("the small waiter cannot take over (connection descriptor " + fd + "): waiting in the JVM");
            return;
        }
        Map<String, String> env = new TreeMap<>(prepared);
        env.put(h.remotePort() == Handover.LISTENER ? "MUSTER_WAIT_LISTEN" : "MUSTER_WAIT_FD", Integer.toString(fd));
        env.put("MUSTER_WAIT_DEADLINE", Long.toString(h.deadlineNanos()));
        env.put("MUSTER_WAIT_HEARD", Long.toString(h.heardNanos()));
        env.put("MUSTER_WAIT_PROGRESS", Long.toString(h.progressNanos()));
        env.put("MUSTER_WAIT_EVERY", Long.toString(h.everyNanos()));
        env.put("MUSTER_WAIT_DEPARTURE", h.departure().toString());
        env.putAll(h.abortClaim());
        if (h.traceLine() != null && env.containsKey("MUSTER_WAIT_TRACE")) {
            env.put("MUSTER_WAIT_TRACE_LINE", h.traceLine());
        } else {
            env.remove("MUSTER_WAIT_TRACE");
        }
        List<String> argv = new ArrayList<>();
        argv.add(NAME);
        argv.add(plan.program().toString());
        argv.addAll(plan.argv());
        List<String> envp = new ArrayList<>(env.size());
        for (Map.Entry<String, String> e : env.entrySet()) {
            envp.add(e.getKey() + "=" + e.getValue());
        }
        if (!h.quiet().getAsBoolean()) {
            SignalGate.open(true);
            Log.debug("rank 0's outcome was read with its ok: the JVM ends the wait");
            return;
        }
        // -1 also without libmuster.so (WaiterOffer offers no hand-off then): no way to keep a signal
        int sigfd = SignalGate.admit(h.stopping());
        if (sigfd < 0) {
            return;
        }
        envp.add("MUSTER_WAIT_SIGFD=" + sigfd);
        Log.debug("handing the wait to " + plan.waiter() + " ("
                + (h.remotePort() == Handover.LISTENER ? "listener" : "connection") + " on descriptor " + fd + ")");
        Exec.removePerfDataFile();
        System.out.flush();
        System.err.flush();
        // TERM, INT and HUP stay blocked across the exec, until the waiter has its handlers and has read what the
        // pipe holds: a signal in between is then not a silent death but the abort the waiter writes
        long blocked = Long.parseLong(env.get("MUSTER_WAIT_SIGMASK")) | 1L << 14 | 1L << 1 | 1L;
        int errno = Exec.execveKeeping(plan.waiter().toString(), argv, envp, new int[] {fd, sigfd}, blocked);
        SignalGate.open(true);
        Log.warn("cannot start the small waiter " + plan.waiter() + " (errno " + errno + "); waiting in the JVM "
                + "(--no-waiter silences this)");
    }

    /** {@code KEY=VALUE} lines, values escaped as the release escapes them (Outcome). */
    private static String lines(Map<String, String> m) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : m.entrySet()) {
            b.append(e.getKey()).append('=').append(escape(e.getValue())).append('\n');
        }
        return b.toString();
    }

    private static String escapedLines(List<String> values) {
        StringBuilder b = new StringBuilder();
        for (String v : values) {
            b.append(escape(v)).append('\n');
        }
        return b.toString();
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\e");
    }

    /** This JVM's command line (its executable, then its arguments), to start it again; null if unknown. */
    static List<String> jvmCommand() {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
            List<String> out = new ArrayList<>();
            out.add(Path.of("/proc/self/exe").toRealPath().toString());
            int start = 0;
            boolean first = true;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    if (!first) {
                        out.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    }
                    first = false;
                    start = i + 1;
                }
            }
            return out.size() > 1 ? out : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
