package dev.muster.exec;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Replaces muster with the program: true execve on Java 22+, a supervised child on Java 17–21. */
public final class Exec {
    private Exec() {}

    public static boolean nativeExec() {
        return ffmAvailable() && !"child".equals(System.getenv("MUSTER_EXEC"));
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

    /** Builds everything exec needs without calling it (dry runs train the start-up archive through here). */
    public static void prepare() {
        if (nativeExec()) {
            NativeExec.prepare();
            originalSigmask();
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
        warnIfFdLimitRaised();
        if (!nativeExec()) {
            return ChildExec.run(program.toString(), argv, env, afterChild);
        }
        List<String> envp = new ArrayList<>(env.size());
        for (Map.Entry<String, String> e : env.entrySet()) {
            envp.add(e.getKey() + "=" + e.getValue());
        }
        removePerfDataFile();
        long mask = originalSigmask();
        List<Integer> cloexec = Descriptors.notInherited();
        System.out.flush();
        System.err.flush();
        int errno = NativeExec.execve(program.toString(), argv, envp, cloexec, mask);
        int code = errno == 2 ? ExitCodes.NOT_FOUND : ExitCodes.NOT_EXECUTABLE;
        throw new MusterException(code, "cannot exec " + program + ": " + strerror(errno));
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
    static void warnIfFdLimitRaised() {
        String opts = System.getenv().getOrDefault("JAVA_TOOL_OPTIONS", "") + " "
                + System.getenv().getOrDefault("JDK_JAVA_OPTIONS", "");
        if (opts.contains("-XX:-MaxFDLimit")) {
            return;
        }
        try {
            String cmdline = new String(Files.readAllBytes(Path.of("/proc/self/cmdline")), StandardCharsets.UTF_8);
            if (cmdline.contains("-XX:-MaxFDLimit")) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        Log.warn("the JVM raised the open-files limit, and the program inherits it; start muster through "
                + "scripts/muster or pass -XX:-MaxFDLimit to java");
    }
}
