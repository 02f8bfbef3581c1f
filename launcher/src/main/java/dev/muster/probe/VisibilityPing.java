package dev.muster.probe;

import dev.muster.core.ForceSync;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * How long a file made on one node takes to show on another, measured by two processes through a directory they
 * both name (what {@code muster doctor} reports). The leader creates two empty files {@code a}, {@code b} and then
 * {@code ping}; the follower polls for {@code ping} by open() (a new name: what NFS's negative lookup cache
 * delays), answers with {@code pong}; the leader then writes into {@code a}, the follower polls it with
 * open()+read() (the barrier's way of polling the outcome on Java 17-21) and answers in {@code b}; on Java 22+ the
 * same once more through {@code c} and {@code d}, each poll first forcing the file's attributes from the server
 * ({@link ForceSync}, the barrier's way there on caching mounts). Each side reports half the
 * round trip it saw, so no clocks need to agree across nodes. Null when the other side's file never showed before
 * the deadline: the directory is not shared.
 */
public final class VisibilityPing {
    private static final long POLL_NANOS = 1_000_000L;

    private VisibilityPing() {}

    /**
     * Half the round trips rank 0 saw: a new name, and a write into a file both sides had open before.
     *
     * @param peerNode the node of the other side (empty on the follower's side)
     */
    public record Result(double newFileMillis, double writeMillis, double forcedWriteMillis, String peerNode) {}

    public static Result lead(Path dir, String node, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            mkdir(dir);
            Files.write(dir.resolve("a"), new byte[0], StandardOpenOption.CREATE_NEW);
            Files.write(dir.resolve("b"), new byte[0], StandardOpenOption.CREATE_NEW);
            Files.write(dir.resolve("c"), new byte[0], StandardOpenOption.CREATE_NEW);
            Files.write(dir.resolve("d"), new byte[0], StandardOpenOption.CREATE_NEW);
            long t0 = System.nanoTime();
            Files.write(
                    dir.resolve("ping"), (node + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW);
            String peer = waitForContent(dir.resolve("pong"), deadline);
            if (peer == null) {
                return null;
            }
            long t1 = System.nanoTime();
            writeOnce(dir.resolve("a"), "x\n");
            long t2 = System.nanoTime();
            if (waitForContent(dir.resolve("b"), deadline) == null) {
                return null;
            }
            long t3 = System.nanoTime();
            double forced = -1;
            if (ForceSync.available()) {
                long t4 = System.nanoTime();
                writeOnce(dir.resolve("c"), "x\n");
                if (waitForContent(dir.resolve("d"), deadline, true) == null) {
                    return null;
                }
                forced = (System.nanoTime() - t4) / 2e6;
            }
            return new Result((t1 - t0) / 2e6, (t3 - t2) / 2e6, forced, peer.trim());
        } catch (IOException e) {
            throw MusterException.unusableDir("doctor: cannot write in " + dir + ": " + e);
        } finally {
            removeTree(dir);
        }
    }

    public static Result follow(Path dir, String node, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            mkdir(dir);
            if (waitForContent(dir.resolve("ping"), deadline) == null) {
                return null;
            }
            Files.write(
                    dir.resolve("pong"), (node + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW);
            if (waitForContent(dir.resolve("a"), deadline) == null) {
                return null;
            }
            writeOnce(dir.resolve("b"), "y\n");
            if (ForceSync.available()) {
                if (waitForContent(dir.resolve("c"), deadline, true) == null) {
                    return null;
                }
                writeOnce(dir.resolve("d"), "y\n");
            }
            return new Result(0, 0, -1, "");
        } catch (IOException e) {
            throw MusterException.unusableDir("doctor: cannot write in " + dir + ": " + e);
        }
    }

    private static void mkdir(Path dir) throws IOException {
        try {
            Files.createDirectory(
                    dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // the other rank made it
        }
    }

    /** Polls {@code file} by open()+read() every millisecond until it has content; null at the deadline. */
    private static String waitForContent(Path file, long deadline) {
        return waitForContent(file, deadline, false);
    }

    /** {@link #waitForContent(Path, long)}, each poll first forcing the attributes when {@code forceSync}. */
    private static String waitForContent(Path file, long deadline, boolean forceSync) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (System.nanoTime() < deadline) {
            if (forceSync) {
                ForceSync.attributes(file);
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                buf.clear();
                int n = ch.read(buf);
                if (n > 0) {
                    return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
                }
            } catch (NoSuchFileException e) {
                // not (yet) visible here
            } catch (IOException e) {
                Log.debug("reading " + file + ": " + e);
            }
            try {
                Thread.sleep(POLL_NANOS / 1_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    private static void writeOnce(Path file, String content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            ch.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    private static void removeTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            Log.debug("cannot remove " + dir + ": " + e + "; muster sweep will");
        }
    }
}
