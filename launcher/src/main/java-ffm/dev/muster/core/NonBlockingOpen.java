package dev.muster.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@code openat(AT_FDCWD, path, O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_NOCTTY|O_CLOEXEC)} through the Foreign Function &
 * Memory API (Java 22+). {@code O_NONBLOCK} is what keeps a FIFO swapped in under a shared name from blocking the
 * open until some writer appears; {@code O_NOFOLLOW} refuses a final symbolic link with {@code ELOOP}.
 *
 * <p>The call goes through {@link Syscall}, the one downcall exec and statx use too.
 *
 * <p>Compiled like {@code NativeExec}, against the stand-in API in {@code src/ffm-api} (see launcher/pom.xml):
 * only loaded on Java 22+, which {@link SharedFiles} checks first; on Java 17-21 it bounds a plain open instead.
 */
public final class NonBlockingOpen {
    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    private static final long SYS_OPENAT = AARCH64 ? 56 : 257;
    private static final long SYS_CLOSE = AARCH64 ? 57 : 3;
    private static final long AT_FDCWD = -100;
    private static final long O_NONBLOCK = 04000;
    private static final long O_NOCTTY = 0400;
    private static final long O_CLOEXEC = 02000000;
    /** The one flag whose value differs between the two architectures. */
    private static final long O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;

    private static final long FLAGS = O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW; // O_RDONLY is 0
    private static final long O_WRONLY = 1;
    private static final long O_CREAT = 0100; // the same on both architectures
    private static final long MODE_0600 = 0600;

    private NonBlockingOpen() {}

    public static boolean available() {
        String arch = System.getProperty("os.arch");
        return "Linux".equals(System.getProperty("os.name")) && ("amd64".equals(arch) || AARCH64);
    }

    /**
     * A descriptor for {@code path} (write-only when {@code write}, created 0600 if missing when {@code create}),
     * or minus the errno. Opening a FIFO for writing without O_NONBLOCK would wait for a reader; with it, a FIFO
     * without one fails at once (ENXIO).
     */
    public static int open(String path, boolean write, boolean create) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment file = arena.allocateFrom(path);
            long flags = FLAGS | (write ? O_WRONLY : 0) | (create ? O_CREAT : 0);
            return (int) Syscall.call(arena, SYS_OPENAT, AT_FDCWD, file.address(), flags, create ? MODE_0600 : 0, 0);
        }
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            Syscall.call(arena, SYS_CLOSE, fd, 0, 0, 0, 0);
        }
    }
}
