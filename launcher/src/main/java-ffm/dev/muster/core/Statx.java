package dev.muster.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * {@code statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_SIZE | STATX_MTIME, buf)} through the Foreign Function
 * &amp; Memory API (Java 22+), for {@link ForceSync}, which loads this class only on Java 22+ (it is compiled against
 * the stand-in API under src/ffm-api, see launcher/pom.xml). On NFS it sends a GETATTR to the server; on FUSE a GETATTR to the daemon. When the
 * size or modification time changed, the kernel drops the file's cached pages, so the next read, also through a
 * descriptor held open, returns what the other node wrote. Why: docs/barrier.md#shared-file-systems-and-client-caches.
 */
final class Statx {
    private static final String ARCH = System.getProperty("os.arch");
    /** statx's system call number; 0 where unknown. */
    private static final long SYS_STATX =
            "amd64".equals(ARCH) || "x86_64".equals(ARCH) ? 332 : "aarch64".equals(ARCH) ? 291 : 0;

    private static final long AT_FDCWD = -100;
    private static final long AT_STATX_FORCE_SYNC = 0x2000;
    private static final long STATX_SIZE_AND_MTIME = 0x200 | 0x40;
    /** struct statx is 256 bytes. */
    private static final long STATX_BYTES = 256;

    private Statx() {}

    static boolean available() {
        return SYS_STATX != 0 && "Linux".equals(System.getProperty("os.name"));
    }

    static void prepare() {
        if (available()) {
            Syscall.prepare();
        }
    }

    static int attributes(Path path) {
        if (!available()) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(path.toString());
            MemorySegment buf = arena.allocate(STATX_BYTES, 8);
            long rc = Syscall.call(
                    arena,
                    SYS_STATX,
                    AT_FDCWD,
                    name.address(),
                    AT_STATX_FORCE_SYNC,
                    STATX_SIZE_AND_MTIME,
                    buf.address());
            return (int) -rc;
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
