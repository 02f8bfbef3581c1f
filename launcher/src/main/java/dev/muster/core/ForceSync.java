package dev.muster.core;

import java.nio.file.Path;

/**
 * {@code statx(path, AT_STATX_FORCE_SYNC)}: makes a network or FUSE client fetch a file's attributes from the
 * server instead of its attribute cache, so that the next read of the file (held open or not) sees what another
 * node wrote. On Java 22+ it calls {@link Statx} (built on the Foreign Function &amp; Memory API, and never loaded
 * before 22); before, it does nothing. Why it matters: docs/barrier.md#shared-file-systems-and-client-caches.
 */
public final class ForceSync {
    /** Whether the running Java has the final Foreign Function &amp; Memory API (22+). */
    private static final boolean FFM = javaFeature() >= 22;

    private ForceSync() {}

    /** Whether {@link #attributes} reaches the kernel (Java 22+ on Linux x86_64 or aarch64). */
    public static boolean available() {
        return NativeLibrary.loaded() || FFM && Statx.available();
    }

    /** Builds the native handle without calling it (a dry run trains the start-up archive with it). */
    public static void prepare() {
        if (!NativeLibrary.loaded() && available()) {
            Statx.prepare();
        }
    }

    /**
     * Refreshes the cached attributes of {@code path} from the server.
     *
     * @return 0, or the errno of the failed call (e.g. 2 for a name that does not exist); -1 when unavailable
     */
    public static int attributes(Path path) {
        if (NativeLibrary.loaded()) {
            return NativeLibrary.statx(NativeLibrary.path(path.toString()));
        }
        return available() ? Statx.attributes(path) : -1;
    }

    private static int javaFeature() {
        try {
            return Integer.parseInt(System.getProperty("java.specification.version", ""));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
