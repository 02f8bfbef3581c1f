package dev.muster.core;

/**
 * {@code open(2)} with {@code O_NONBLOCK|O_NOFOLLOW}, which plain Java cannot ask for. This Java 17 class is the
 * stand-in (it says it is not available, and {@link SharedFiles} bounds a plain open by a deadline instead); the
 * real one is the multi-release class under {@code META-INF/versions/22}, built on the Foreign Function & Memory API.
 */
public final class NonBlockingOpen {
    private NonBlockingOpen() {
    }

    public static boolean available() {
        return false;
    }

    /** A descriptor for {@code path} (write-only when {@code write}, created 0600 if missing when {@code create}),
     * or minus the errno. */
    public static int open(String path, boolean write, boolean create) {
        throw new UnsupportedOperationException("non-blocking open needs Java 22 or newer");
    }

    public static void close(int fd) {
        throw new UnsupportedOperationException("non-blocking open needs Java 22 or newer");
    }
}
