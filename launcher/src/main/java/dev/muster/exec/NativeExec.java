package dev.muster.exec;

import java.util.List;

/**
 * True {@code execve}. This Java 17 class is the stand-in: the real one is the multi-release class under
 * {@code META-INF/versions/22} (source in {@code src/main/java22}), built on the Foreign Function & Memory API.
 */
public final class NativeExec {
    private NativeExec() {
    }

    public static boolean available() {
        return false;
    }

    /** Builds the native handles without calling them (a dry run trains the start-up archive with them). */
    public static void prepare() {
        // nothing to build on Java 17-21
    }

    /**
     * Replaces the process image; returns only on failure, with errno.
     *
     * @param cloexec descriptors to mark close-on-exec first
     * @param sigmask the signal mask to restore first (Linux bit layout: bit n-1 for signal n), or -1 to keep
     */
    public static int execve(String path, List<String> argv, List<String> envp, List<Integer> cloexec,
            long sigmask) {
        throw new UnsupportedOperationException("execve needs Java 22 or newer");
    }
}
