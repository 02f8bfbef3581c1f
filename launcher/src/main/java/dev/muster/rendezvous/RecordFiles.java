package dev.muster.rendezvous;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import dev.muster.core.SharedFiles;
import dev.muster.json.JsonException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.Optional;

/** Reading and writing record files safely on a shared file system. */
final class RecordFiles {
    /** Records are a few hundred bytes; anything this large is not one, and reading it whole would be a risk. */
    static final int MAX_BYTES = 64 * 1024;

    private static final int READ_ATTEMPTS = 5;
    private static final SecureRandom RANDOM = new SecureRandom();

    private RecordFiles() {}

    /**
     * The record in {@code file}, or empty when there is none. A file that is a symbolic link, not a regular file,
     * larger than 64 KiB or not a valid record is refused with a message naming it.
     *
     * <p>The type is checked on the open descriptor, never by an lstat before the open: whoever can write the
     * name directory can swap a FIFO in between the two, and a blocking open of a FIFO waits for a writer forever
     * ({@link SharedFiles}). Writers rename complete files into place, so a reader sees the old file or the new
     * one. Still, a read can race a rename (NFS hands out a stale handle) or come up short on a shared file
     * system; those are retried a few times before the file counts as missing or corrupt.
     */
    static Optional<Record> read(Path file, Clock clock) {
        return readSigned(file, clock).map(Record.Signed::record);
    }

    /** {@link #read}, keeping the signature field. */
    static Optional<Record.Signed> readSigned(Path file, Clock clock) {
        for (int attempt = 1; ; attempt++) {
            boolean last = attempt >= READ_ATTEMPTS;
            String text;
            try {
                text = readBounded(file);
            } catch (NoSuchFileException e) {
                return Optional.empty();
            } catch (SharedFiles.NotRegularFile e) {
                throw notRegular(file, e.kind());
            } catch (IOException e) {
                if (!last && transient_(e)) {
                    pause(clock, attempt);
                    continue;
                }
                throw unreadable(file, e);
            }
            try {
                return Optional.of(Record.parseSigned(text, file.toString()));
            } catch (JsonException e) {
                if (!last) {
                    pause(clock, attempt);
                    continue;
                }
                throw MusterException.corrupt("rendezvous record " + file + " is truncated (" + e.getMessage()
                        + "); remove it or register again");
            }
        }
    }

    private static MusterException notRegular(Path file, String kind) {
        if (kind.equals("a symbolic link")) {
            return symlink(file);
        }
        return MusterException.corrupt("rendezvous record " + file + " is " + kind + ", not a regular file; remove it");
    }

    private static MusterException symlink(Path file) {
        return MusterException.corrupt(
                "rendezvous record " + file + " is a symbolic link; muster reads no record through a link: remove it");
    }

    private static MusterException oversized(Path file, long size) {
        return MusterException.corrupt("rendezvous record " + file + " has " + size + " bytes, more than a record's "
                + MAX_BYTES + "; remove it");
    }

    private static MusterException unreadable(Path file, IOException e) {
        return MusterException.corrupt("cannot read rendezvous record " + file + " (" + CacheDir.reason(e)
                + "); check its permissions or remove it");
    }

    /** Reads at most {@link #MAX_BYTES}; the file may grow while it is read. Refuses bytes that are not UTF-8. */
    private static String readBounded(Path file) throws IOException {
        ByteBuffer buf;
        try (FileChannel ch = SharedFiles.openRegular(file)) {
            long size = ch.size();
            if (size > MAX_BYTES) {
                throw oversized(file, size);
            }
            buf = ByteBuffer.allocate((int) size + 1);
            while (true) {
                if (!buf.hasRemaining()) {
                    if (buf.capacity() > MAX_BYTES) {
                        break;
                    }
                    // grew since fstat: make room, never beyond MAX_BYTES + 1
                    ByteBuffer bigger = ByteBuffer.allocate(Math.min(MAX_BYTES + 1, buf.capacity() * 2));
                    buf.flip();
                    buf = bigger.put(buf);
                }
                if (ch.read(buf) < 0) {
                    break;
                }
            }
        }
        if (buf.position() > MAX_BYTES) {
            throw oversized(file, buf.position());
        }
        buf.flip();
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(buf)
                    .toString();
        } catch (CharacterCodingException e) {
            throw MusterException.corrupt("rendezvous record " + file + " is not UTF-8 text; remove it");
        }
    }

    private static boolean transient_(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("Stale file handle") || m.contains("ESTALE") || e instanceof NoSuchFileException;
    }

    private static void pause(Clock clock, int attempt) {
        try {
            clock.sleep(5_000_000L << attempt); // 10, 20, 40, 80 ms
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MusterException(130, "interrupted while reading a rendezvous record");
        }
    }

    /**
     * Refuses to write over something that is not a plain file: a link or directory in the place of a record is
     * either damage or an attack, and replacing it would hide which.
     */
    static void refuseNonRegularTarget(Path target) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot inspect " + target + " (" + CacheDir.reason(e) + ")");
        }
        if (a.isSymbolicLink()) {
            throw symlink(target);
        }
        if (!a.isRegularFile()) {
            throw MusterException.corrupt("rendezvous record " + target + " is not a regular file"
                    + (a.isDirectory() ? " but a directory" : "") + "; remove it");
        }
    }

    /**
     * Writes {@code bytes} to {@code target} so that no reader ever sees a partial file: a unique temp file in
     * the same directory (named {@code .*.tmp}, which neither muster's nor hpc-compose's list and prune read),
     * fsync, rename over the target, fsync the directory. The file gets the process umask, so a group-shared
     * cache works with {@code umask 002}.
     */
    static void writeAtomically(Path target, byte[] bytes) {
        Path dir = target.getParent();
        Path tmp = tempName(dir, target.getFileName().toString(), "tmp");
        try {
            try (FileChannel ch = FileChannel.open(
                    tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw MusterException.unusableDir("cannot write " + target + " (" + CacheDir.reason(e)
                    + "); check that the cache directory is writable and has space");
        }
        syncDirectory(dir);
    }

    /** Makes the rename durable; best effort, as some file systems refuse to sync a directory. */
    static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // the data itself is synced; only the rename's durability across a crash is less certain
        }
    }

    static Path tempName(Path dir, String base, String suffix) {
        return dir.resolve("." + base + "." + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE) + "."
                + dev.muster.core.Posix.pid() + "." + suffix);
    }

    /**
     * Takes {@code file} out of everyone's view by renaming it to a private name, so that what is checked next is
     * exactly what will be deleted: a check on the shared name and a delete of the shared name would race with a
     * writer renaming a new record into place in between. Empty when the file is already gone.
     */
    static Optional<Path> claim(Path file) {
        Path claimed = tempName(file.getParent(), file.getFileName().toString(), "claim.tmp");
        try {
            Files.move(file, claimed, StandardCopyOption.ATOMIC_MOVE);
            return Optional.of(claimed);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot rename " + file + " (" + CacheDir.reason(e)
                    + "); check that the cache directory is writable");
        }
    }

    /**
     * Puts a claimed file back under its name unless something took that name meanwhile. Whatever took it was
     * renamed in after our claim, i.e. registered later, so it wins and the claimed file is dropped. A hard link
     * is the no-clobber rename: it fails when the name exists, where rename would silently replace it.
     */
    static void restore(Path claimed, Path file) {
        try {
            Files.createLink(file, claimed);
        } catch (FileAlreadyExistsException e) {
            // a newer record is in place
        } catch (UnsupportedOperationException | IOException e) {
            // no hard links here: a narrower check-then-rename is the best left
            try {
                if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                    Files.move(claimed, file, StandardCopyOption.ATOMIC_MOVE);
                    return;
                }
            } catch (IOException again) {
                // fall through to dropping it
            }
        }
        deleteQuietly(claimed);
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a leftover .tmp file is ignored by every reader; nothing more to do
        }
    }
}
