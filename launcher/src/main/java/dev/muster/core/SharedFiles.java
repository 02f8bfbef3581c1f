package dev.muster.core;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Opens files under directories that other users or other jobs can write (the sync and cache directories) so that
 * what is found there cannot block or exhaust the reader: anyone who can write such a directory can put a FIFO, a
 * socket, a directory or a link under a name that muster reads, and swap it in between any check and the open.
 *
 * <p>So the type is checked on the <em>open</em> descriptor, never by an lstat before the open. On Java 22+ with
 * native access enabled (muster's own JVMs) the open itself cannot block ({@code O_NONBLOCK|O_NOFOLLOW} through
 * {@link NonBlockingOpen}), its type is read from {@code /proc/self/fd/<n>} (which names the open file, whatever the
 * path names now) and only a regular file is opened, through that same descriptor. Elsewhere (Java 17-21, where
 * Java cannot ask for {@code O_NONBLOCK}, and the agent inside an application) the open runs on a helper thread:
 * it is refused as soon as the name shows anything but a regular file while the open is pending, and after
 * {@link FallbackOpen#FALLBACK_OPEN_MILLIS} in any case; a descriptor that cannot seek (FIFO, socket) is refused. A helper
 * thread caught in the open of a FIFO stays parked until a writer opens it: a daemon thread, it never keeps the
 * process alive.
 */
public final class SharedFiles {
    private static final int ENOENT = 2;
    private static final int ENXIO = 6;
    private static final int ELOOP = 40;

    private SharedFiles() {}

    /**
     * Writes {@code bytes} to {@code tmp} (never through a link) and renames it over {@code target}, so that a
     * reader sees the old file or the whole new one, never part of it.
     */
    public static void writeReplacing(Path tmp, Path target, byte[] bytes) throws IOException {
        Files.write(
                tmp,
                bytes,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE,
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.move(
                tmp,
                target,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The path names something other than a regular file: a link, FIFO, socket, device or directory. */
    public static final class NotRegularFile extends FileSystemException {
        private static final long serialVersionUID = 1L;
        private final String kind;

        NotRegularFile(Path file, String kind) {
            super(file.toString(), null, "is " + kind + ", not a regular file");
            this.kind = kind;
        }

        /** "a symbolic link", "a FIFO", ...: for messages. */
        public String kind() {
            return kind;
        }

        public boolean symlink() {
            return kind.equals(SYMLINK);
        }
    }

    static final String SYMLINK = "a symbolic link";

    /**
     * A read-only channel on the regular file {@code file}, never blocking on what the name holds.
     *
     * @throws NoSuchFileException when nothing is there
     * @throws NotRegularFile when the name holds anything else (a final symbolic link is not followed)
     * @throws IOException for other failures (permissions, a stale NFS handle: see its message)
     */
    public static FileChannel openRegular(Path file) throws IOException {
        if (nonBlocking()) {
            return openNonBlocking(file, false, false);
        }
        return FallbackOpen.open(file, false, false);
    }

    /**
     * A write-only channel on the regular file {@code file} (created 0600 when missing and {@code create}), never
     * blocking on what the name holds: opening a FIFO for writing waits for a reader.
     *
     * @throws NoSuchFileException when nothing is there and {@code create} is false
     * @throws NotRegularFile when the name holds anything else (a final symbolic link is not followed)
     */
    public static FileChannel openRegularForWrite(Path file, boolean create) throws IOException {
        if (nonBlocking()) {
            return openNonBlocking(file, true, create);
        }
        return FallbackOpen.open(file, true, create);
    }

    private static volatile Boolean nonBlocking;

    /**
     * Whether {@link NonBlockingOpen} may be used: Java 22+ (it is built against a stand-in of the FFM API and
     * must not even be loaded before, as exec's {@code Exec.ffmAvailable} says) on Linux x86_64 or aarch64.
     */
    public static boolean nonBlocking() {
        Boolean b = nonBlocking;
        if (b == null) {
            boolean java22;
            try {
                java22 = Integer.parseInt(System.getProperty("java.specification.version", "")) >= 22;
            } catch (NumberFormatException e) {
                java22 = false;
            }
            b = NativeLibrary.loaded() || java22 && NativeLibrary.nativeAccessEnabled() && NonBlockingOpen.available();
            nonBlocking = b;
        }
        return b;
    }

    private static FileChannel openNonBlocking(Path file, boolean write, boolean create) throws IOException {
        boolean jni = NativeLibrary.loaded();
        int fd = jni
                ? NativeLibrary.open(NativeLibrary.path(file.toString()), write, create)
                : NonBlockingOpen.open(file.toString(), write, create);
        if (fd < 0) {
            switch (-fd) {
                case ENOENT -> throw new NoSuchFileException(file.toString());
                case ELOOP -> throw new NotRegularFile(file, SYMLINK);
                // open(2) of a socket, or of a FIFO for writing while nobody reads it
                case ENXIO -> throw new NotRegularFile(file, "a socket or FIFO");
                default -> throw new FileSystemException(file.toString(), null, "open failed, errno " + (-fd));
            }
        }
        try {
            Path open = Path.of("/proc/self/fd/" + fd);
            BasicFileAttributes a = Files.readAttributes(open, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw new NotRegularFile(file, kind(open, a));
            }
            // reopening /proc/self/fd/<n> opens the very inode already open, not whatever the name holds now
            return FileChannel.open(open, write ? StandardOpenOption.WRITE : StandardOpenOption.READ);
        } finally {
            if (jni) {
                NativeLibrary.close(fd);
            } else {
                NonBlockingOpen.close(fd);
            }
        }
    }

    /**
     * The bytes of the regular file {@code file}, at most {@code max} + 1 of them (one more than allowed tells the
     * caller it is too large), read without blocking on what the name holds. On Java 17-21 the open, the read and
     * the close all happen on the helper thread, so the file is open no longer than a plain read would keep it.
     */
    public static byte[] readRegular(Path file, int max) throws IOException {
        if (nonBlocking()) {
            try (FileChannel ch = openRegular(file)) {
                return readUpTo(ch, max);
            }
        }
        return FallbackOpen.onHelper(file, () -> {
            try (FileChannel ch = FallbackOpen.openChecked(file, false, false)) {
                return readUpTo(ch, max);
            }
        });
    }

    private static byte[] readUpTo(FileChannel ch, int max) throws IOException {
        java.nio.ByteBuffer buf =
                java.nio.ByteBuffer.allocate((int) Math.min(Math.max(ch.size(), 64) + 1, (long) max + 1));
        while (true) {
            if (!buf.hasRemaining()) {
                if (buf.capacity() > max) {
                    break;
                }
                java.nio.ByteBuffer bigger =
                        java.nio.ByteBuffer.allocate((int) Math.min((long) max + 1, buf.capacity() * 2L));
                buf.flip();
                buf = bigger.put(buf);
            }
            if (ch.read(buf) < 0) {
                break;
            }
        }
        return java.util.Arrays.copyOf(buf.array(), buf.position());
    }

    private static String kind(Path open, BasicFileAttributes a) {
        if (a.isDirectory()) {
            return "a directory";
        }
        try {
            int mode = (Integer) Files.getAttribute(open, "unix:mode");
            switch (mode & 0170000) {
                case 0010000 -> {
                    return "a FIFO";
                }
                case 0140000 -> {
                    return "a socket";
                }
                case 0020000 -> {
                    return "a character device";
                }
                case 0060000 -> {
                    return "a block device";
                }
                default -> {
                    // fall through to the plain wording
                }
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            // no unix view: the plain wording below still names the problem
        }
        return "a special file";
    }
}
