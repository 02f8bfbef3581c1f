package dev.muster.oci;

import dev.muster.core.MusterException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/**
 * Reads a bundle's {@code config.json} as root without being tricked by the user who owns the bundle: the name is
 * opened with {@code O_NOFOLLOW} (a symbolic link is refused, also one swapped in after a check), and what was
 * opened is checked to be a regular file of bounded size on the open descriptor itself, through its
 * {@code /proc/self/fd} entry, so that a file swapped in between a check by name and the open is caught. A FIFO or
 * device would block or never end: the name is checked first (lstat), so only a swap in that instant can reach
 * the open, and then {@link #OPEN_WAIT_MS} bounds it.
 */
final class ConfigFile {
    /** A bundle's config.json is a few kB; a generous bound for very large environments. */
    static final int MAX_BYTES = 1024 * 1024;
    /**
     * Only a FIFO or device swapped in after the check by name makes an open wait; a regular file opens at once,
     * but a machine under heavy load may take a while to run the opening thread: generous, so that a slow machine
     * never fails a good container.
     */
    static final long OPEN_WAIT_MS = 10_000;

    private ConfigFile() {}

    static byte[] read(Path file, int limit) {
        BasicFileAttributes byName;
        try {
            byName = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw bad(file, "does not exist; the state's \"bundle\" must be the container's bundle directory");
        } catch (IOException e) {
            throw bad(file, "cannot be read (" + e.getMessage() + ")");
        }
        check(file, byName, limit);
        SeekableByteChannel ch = open(file);
        try {
            BasicFileAttributes opened = attributesOfOpened(byName);
            if (opened == null) {
                throw bad(file, "changed while it was opened; try again, and do not modify the bundle meanwhile");
            }
            check(file, opened, limit);
            ByteBuffer buf = ByteBuffer.allocate(limit + 1);
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // until the end, or one byte past the bound
            }
            if (buf.position() > limit) {
                throw bad(file, "is larger than " + limit / 1024 + " KiB");
            }
            byte[] out = new byte[buf.position()];
            buf.flip().get(out);
            return out;
        } catch (IOException e) {
            throw bad(file, "cannot be read (" + e.getMessage() + ")");
        } finally {
            try {
                ch.close();
            } catch (IOException e) {
                // read-only
            }
        }
    }

    private static void check(Path file, BasicFileAttributes a, int limit) {
        if (a.isSymbolicLink()) {
            throw bad(file, "is a symbolic link; muster reads the bundle's own config.json only");
        }
        if (!a.isRegularFile()) {
            throw bad(file, "is not a regular file");
        }
        if (a.size() > limit) {
            throw bad(file, "is larger than " + limit / 1024 + " KiB");
        }
    }

    /** Opens with O_NOFOLLOW, on a helper thread so that a FIFO swapped in cannot hold the hook (see class doc). */
    private static SeekableByteChannel open(Path file) {
        SeekableByteChannel[] result = new SeekableByteChannel[1];
        IOException[] failure = new IOException[1];
        Thread t = new Thread(
                () -> {
                    try {
                        result[0] = Files.newByteChannel(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
                    } catch (IOException e) {
                        failure[0] = e;
                    }
                },
                "muster-open-config");
        t.setDaemon(true);
        t.start();
        try {
            t.join(OPEN_WAIT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            throw bad(file, "did not open within " + OPEN_WAIT_MS + " ms (a FIFO or device?)");
        }
        if (failure[0] != null) {
            // ELOOP from O_NOFOLLOW: a link was swapped in after the check by name
            throw bad(file, "cannot be opened without following links (" + failure[0].getMessage() + ")");
        }
        return result[0];
    }

    private static Set<String> openDescriptors() {
        Set<String> fds = new HashSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : ds) {
                fds.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            // no /proc: attributesOfOpened finds nothing and the read is refused
        }
        return fds;
    }

    /**
     * The attributes of the file just opened, read through its descriptor ({@code stat} of {@code /proc/self/fd/N}
     * is {@code fstat} of the open file), or null when no descriptor holds the file that was checked by name (a
     * different file was swapped in). Nothing else in this process has config.json open, so a descriptor of that
     * file is the one just opened; descriptor numbers are no guide, since the listing's own is reused at once.
     */
    private static BasicFileAttributes attributesOfOpened(BasicFileAttributes byName) {
        Object key = byName.fileKey();
        for (String fd : openDescriptors()) {
            try {
                BasicFileAttributes a = Files.readAttributes(Path.of("/proc/self/fd", fd), BasicFileAttributes.class);
                if (key != null && key.equals(a.fileKey())) {
                    return a;
                }
            } catch (IOException e) {
                // the directory stream's own descriptor, gone by now
            }
        }
        return null;
    }

    static MusterException bad(Path file, String what) {
        return MusterException.corrupt("hook: " + Text.safe(file.toString()) + " " + what);
    }
}
