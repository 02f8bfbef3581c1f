package dev.muster.core;

import java.nio.file.Path;

/**
 * {@code statx(path, AT_STATX_FORCE_SYNC)}: makes a network or FUSE client fetch a file's attributes from the
 * server instead of its attribute cache, so that the next read of the file (held open or not) sees what another
 * node wrote. This Java 17 class is the stand-in: the real one is the multi-release class under
 * {@code META-INF/versions/22} (source in {@code src/main/java22}), built on the Foreign Function &amp; Memory
 * API. Why it matters: docs/barrier.md#shared-file-systems-and-client-caches.
 */
public final class ForceSync {
    private ForceSync() {
    }

    /** Whether {@link #attributes} reaches the kernel (Java 22+ on Linux x86_64 or aarch64). */
    public static boolean available() {
        return false;
    }

    /** Builds the native handle without calling it (a dry run trains the start-up archive with it). */
    public static void prepare() {
        // nothing to build on Java 17-21
    }

    /**
     * Refreshes the cached attributes of {@code path} from the server.
     *
     * @return 0, or the errno of the failed call (e.g. 2 for a name that does not exist); -1 when unavailable
     */
    public static int attributes(Path path) {
        return -1;
    }
}
