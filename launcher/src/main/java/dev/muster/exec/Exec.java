package dev.muster.exec;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.NativeLibrary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Replaces muster with the program: a true execve through libmuster.so (JNI, any Java 17+) where the library is
 * present, else through the FFM API on Java 22+, else a supervised child (docs/exec.md).
 */
public final class Exec {
    private Exec() {}

    public static boolean nativeExec() {
        if ("child".equals(System.getenv("MUSTER_EXEC"))) {
            return false;
        }
        return NativeLibrary.loaded() || ffmAvailable();
    }

    /**
     * Whether the running Java has the final Foreign Function &amp; Memory API (22+). {@link NativeExec} is built
     * against a stand-in of that API and must not even be loaded before.
     */
    static boolean ffmAvailable() {
        String spec = System.getProperty("java.specification.version", "");
        try {
            return Integer.parseInt(spec) >= 22;
        } catch (NumberFormatException e) {
            return false; // "1.8" and the like: older than 9
        }
    }

    /** The task's original signal mask and whether to warn about the open-files limit, found by {@link #prepare}. */
    private static volatile Prepared prepared;

    private record Prepared(long sigmask, boolean fdLimitRaised) {}

    /**
     * Does, while the task waits, everything exec needs that the release cannot change: reads the original signal
     * mask and the JVM's flags, removes the perf-data file, and runs the whole exec call path once with a failing
     * execve of "" (no side effect), so that the release finds it loaded, linked and run. Dry runs train the
     * start-up archive through here.
     */
    public static void prepare() {
        if (nativeExec()) {
            int errno = execve("", List.of(""), List.of(), true, -1);
            if (errno != 2) {
                Log.debug("the trial execve of \"\" failed with errno " + errno + ", not ENOENT");
            }
            removePerfDataFile();
            prepared = new Prepared(originalSigmask(), fdLimitRaised());
            Descriptors.notInherited();
        }
    }

    /** Returns only in the Java 17–21 fallback, with the child's exit code. */
    public static int replace(Path program, List<String> argv, Map<String, String> env) {
        return replace(program, argv, env, null);
    }

    /**
     * {@link #replace(Path, List, Map)}; in the Java 17–21 fallback {@code afterChild} (when not null) runs once
     * the child has ended, before muster exits with its code or dies by its signal.
     */
    public static int replace(Path program, List<String> argv, Map<String, String> env, Runnable afterChild) {
        if (!nativeExec()) {
            if (fdLimitRaised()) {
                warnFdLimit();
            }
            return ChildExec.run(program.toString(), argv, env, afterChild);
        }
        Prepared p = prepared;
        if (p == null) {
            prepare();
            p = prepared;
        }
        if (p.fdLimitRaised()) {
            warnFdLimit();
        }
        List<String> envp = new ArrayList<>(env.size());
        for (Map.Entry<String, String> e : env.entrySet()) {
            envp.add(e.getKey() + "=" + e.getValue());
        }
        Log.debug("exec through " + (NativeLibrary.loaded() ? "libmuster.so (JNI)" : "the FFM API"));
        System.out.flush();
        System.err.flush();
        int errno = execve(program.toString(), argv, envp, false, p.sigmask());
        int code = errno == 2 ? ExitCodes.NOT_FOUND : ExitCodes.NOT_EXECUTABLE;
        throw new MusterException(code, "cannot exec " + program + ": " + strerror(errno));
    }

    /**
     * execve through libmuster.so, else the FFM API; a {@code trial} marks no descriptor close-on-exec. Every
     * descriptor but the inherited ones is marked: libmuster.so lists them itself (close_range), the FFM path
     * reads /proc/self/fd here.
     */
    private static int execve(String path, List<String> argv, List<String> envp, boolean trial, long mask) {
        if (!NativeLibrary.loaded()) {
            return NativeExec.execve(path, argv, envp, trial ? List.of() : Descriptors.notInherited(), mask);
        }
        ByteArrayOutputStream block = new ByteArrayOutputStream(8192);
        cString(block, path);
        // loops, not lambdas: a lambda on this path spins method-handle classes after the release
        for (String a : argv) {
            cString(block, a);
        }
        for (String e : envp) {
            cString(block, e);
        }
        return NativeLibrary.execve(
                block.toByteArray(), argv.size(), envp.size(), trial ? null : Descriptors.inherited(), mask);
    }

    private static void cString(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    private static String strerror(int errno) {
        return switch (errno) {
            case 2 -> "no such file (ENOENT)";
            case 8 -> "not an executable format (ENOEXEC); add a #! line";
            case 13 -> "permission denied (EACCES)";
            case 7 -> "argument list too long (E2BIG)";
            default -> "errno " + errno;
        };
    }

    /**
     * The signal mask the task was started with. The JVM's first thread keeps the launcher's mask; Java threads
     * block SIGQUIT, and execve would pass that on.
     */
    static long originalSigmask() {
        return sigmask("/proc/self/task/" + dev.muster.core.Posix.pid() + "/status");
    }

    /** The blocked signals a thread's status file lists, or -1. */
    static long sigmask(String status) {
        try {
            for (String line : Files.readAllLines(Path.of(status), StandardCharsets.US_ASCII)) {
                if (line.startsWith("SigBlk:")) {
                    return Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        } catch (IOException | RuntimeException e) {
            Log.debug("cannot read the original signal mask: " + e);
        }
        return -1;
    }

    /** Without -XX:-UsePerfData the JVM leaves /tmp/hsperfdata_<user>/<pid>, deleted only on a JVM exit. */
    static void removePerfDataFile() {
        try {
            Files.deleteIfExists(Path.of(
                    System.getProperty("java.io.tmpdir"),
                    "hsperfdata_" + System.getProperty("user.name"),
                    Long.toString(dev.muster.core.Posix.pid())));
        } catch (IOException | RuntimeException e) {
            // a leftover file, nothing worse
        }
    }

    /** The JVM raises the open-files soft limit to the hard limit unless told not to; the program inherits it. */
    private static boolean fdLimitRaised() {
        String opts = System.getenv().getOrDefault("JAVA_TOOL_OPTIONS", "") + " "
                + System.getenv().getOrDefault("JDK_JAVA_OPTIONS", "");
        if (opts.contains("-XX:-MaxFDLimit")) {
            return false;
        }
        try {
            String cmdline = new String(Files.readAllBytes(Path.of("/proc/self/cmdline")), StandardCharsets.UTF_8);
            return !cmdline.contains("-XX:-MaxFDLimit");
        } catch (IOException e) {
            return false;
        }
    }

    /** Warns (as before an exec) when the JVM raised the open-files limit that the program would inherit. */
    static void warnIfFdLimitRaised() {
        Prepared p = prepared;
        if (p != null ? p.fdLimitRaised() : fdLimitRaised()) {
            warnFdLimit();
        }
    }

    /**
     * execve of the small waiter: as {@link #execve} for the program, but descriptors {@code keep} (the connection
     * to rank 0, the pipe of signals caught during the hand-off) stay open; returns errno on failure.
     */
    static int execveKeeping(String path, List<String> argv, List<String> envp, int[] keep, long mask) {
        if (!NativeLibrary.loaded()) {
            List<Integer> cloexec = Descriptors.notInherited();
            for (int k : keep) {
                cloexec.remove(Integer.valueOf(k));
            }
            return NativeExec.execve(path, argv, envp, cloexec, mask);
        }
        ByteArrayOutputStream block = new ByteArrayOutputStream(8192);
        cString(block, path);
        for (String a : argv) {
            cString(block, a);
        }
        for (String e : envp) {
            cString(block, e);
        }
        int[] inherited = Descriptors.inherited();
        int[] kept = java.util.Arrays.copyOf(inherited, inherited.length + keep.length);
        System.arraycopy(keep, 0, kept, inherited.length, keep.length);
        java.util.Arrays.sort(kept); // libmuster.so marks the gaps between kept descriptors, in order
        return NativeLibrary.execve(block.toByteArray(), argv.size(), envp.size(), kept, mask);
    }

    private static void warnFdLimit() {
        Log.warn("the JVM raised the open-files limit, and the program inherits it; start muster through "
                + "scripts/muster or pass -XX:-MaxFDLimit to java");
    }
}
