package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.ForceSync;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.SharedFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * One of the small step files every waiting task polls (outcome, endpoint), read whole and never stat()ed. Both
 * are created empty ahead of time and filled in place by one write(), so the file a task opened is the file that
 * gets written.
 *
 * <p>Where reads of an open file see other nodes' writes at once ({@link #readsAreCoherent}), the file is opened
 * at the first poll that finds it empty and then only read with pread(), which makes no metadata call at all. It
 * is opened afresh every {@link #REOPEN_NANOS} all the same, so a swept or re-created step directory is noticed.
 * Elsewhere (NFS with attribute caching, FUSE, unknown types) on Java 22+, every poll first asks the server for
 * the file's attributes ({@link ForceSync}: the client's cached size and pages of a changed file are dropped)
 * and then reads the held descriptor; on Java 17-21 every poll opens the file, because only open() revalidates a
 * client's cache, and that only where the client has close-to-open consistency, as NFS has and FUSE has not (why:
 * docs/barrier.md#shared-file-systems-and-client-caches).
 */
final class PolledFile {
    /** A step file held open by polls is opened afresh this often. */
    static final long REOPEN_NANOS = 2_000_000_000L;
    /** Cluster file systems whose reads of an open file are coherent with other clients' writes. */
    private static final Set<String> COHERENT = Set.of("lustre", "gpfs", "ceph", "cephfs");

    /**
     * Whether the step files of one directory may be held open between polls: decided once, at the first poll
     * that finds nothing, and shared by the files of that directory; off for good once the outcome is known.
     */
    static final class Policy {
        private final Path dir;
        private Boolean holdOpen;
        /** Each poll refreshes the file's attributes from the server first (set with {@link #holdOpen}). */
        private boolean forceSync;

        private boolean finished;

        Policy(Path dir) {
            this.dir = dir;
        }

        /** Polls as on NFS with attribute caching, one open() per poll, whatever the mount (for tests). */
        void byOpenOnly() {
            holdOpen = false;
            forceSync = false;
        }

        /** Whether polls refresh the attributes first: known once the first poll found nothing. */
        boolean forcesSync() {
            return holdOpen != null && forceSync && !finished;
        }

        void finish() {
            finished = true;
        }

        /**
         * How rank 0's small waiter is to read the outcome file (muster-wait.c, {@code MUSTER_WAIT_POLICY}): {@code
         * sync}, {@code hold} or {@code open}, as this policy reads it.
         */
        String waiterWord() {
            return !mayHold() ? "open" : forceSync ? "sync" : "hold";
        }

        /** True once it is known that nothing will be held: every poll opens, reads and closes. */
        private boolean neverHolds() {
            return finished || Boolean.FALSE.equals(holdOpen);
        }

        private boolean mayHold() {
            if (holdOpen == null) {
                MountInfo m = MountInfo.of(dir);
                boolean coherent = m != null && readsAreCoherent(m);
                forceSync = !coherent && ForceSync.available();
                holdOpen = coherent || forceSync;
                Log.debug("polling the step files "
                        + (forceSync
                                ? "by statx(AT_STATX_FORCE_SYNC) + pread() on a " + "held descriptor"
                                : holdOpen ? "by pread() on a held descriptor" : "by open() + read()")
                        + " (" + (m == null ? "mount unknown" : m.type() + " on " + m.mountPoint()) + ")");
            }
            return holdOpen;
        }
    }

    private final Path file;
    private final Clock clock;
    private final Policy policy;
    private ByteBuffer buffer = ByteBuffer.allocate(8192);
    private FileChannel held;
    private long openedAt;

    PolledFile(Path file, Clock clock, Policy policy) {
        this.file = file;
        this.clock = clock;
        this.policy = policy;
    }

    /** The outcome in this file, or null while undecided. */
    synchronized Outcome outcome() {
        int n = read();
        return n <= 0 ? null : Outcome.decode(buffer.array(), n, file.toString());
    }

    /** Rank 0's TCP endpoint in this file, or null while it is not published. */
    synchronized TcpEndpoint endpoint() {
        int n = read();
        return n <= 0 ? null : TcpEndpoint.decode(buffer.array(), n);
    }

    /** Reads the file; returns its length, 0 when empty or unreadable for now. */
    private int read() {
        long now = clock.nanoTime();
        if (policy.forcesSync()) {
            ForceSync.attributes(file); // an error (ENOENT, ESTALE) shows in the read that follows
        }
        FileChannel ch = held;
        if (ch != null && now - openedAt >= REOPEN_NANOS) {
            close();
            ch = null;
        }
        try {
            if (ch == null && policy.neverHolds()) {
                // open, read, close in one go, which on Java 17-21 keeps the file open no longer than a plain read
                byte[] b = SharedFiles.readRegular(file, StepFiles.MAX_OUTCOME);
                if (b.length > StepFiles.MAX_OUTCOME) {
                    throw MusterException.corrupt("step file " + file + " is larger than " + StepFiles.MAX_OUTCOME
                            + " bytes; remove " + file.getParent());
                }
                if (buffer.capacity() < b.length) {
                    buffer = ByteBuffer.allocate(b.length);
                }
                buffer.clear();
                buffer.put(b);
                return b.length;
            }
            if (ch == null) {
                // the type is checked on the open descriptor: a FIFO swapped in must not block the poll (SharedFiles)
                ch = SharedFiles.openRegular(file);
                openedAt = now;
            }
            int n = readFrom(ch);
            if (n == 0 && !policy.finished && (ch == held || policy.mayHold())) {
                held = ch; // still empty: the task is going to wait, keep it for the next polls
            } else {
                if (ch == held) {
                    held = null; // filled: nothing more to poll here
                }
                ch.close();
            }
            return n;
        } catch (NoSuchFileException e) {
            return 0; // ENOENT, retried: a slow server, or a directory swept away (the deadline still holds)
        } catch (SharedFiles.NotRegularFile e) {
            close();
            throw MusterException.corrupt("step file " + file + " is " + e.kind() + ", not a regular file; "
                    + "something other than muster wrote there: remove " + file.getParent());
        } catch (IOException e) {
            Log.debug("reading " + file + ": " + e);
            if (ch != null && ch != held) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // read-only channel
                }
            }
            close();
            return 0;
        }
    }

    /** Closes the descriptor held open by polls, if any. */
    synchronized void close() {
        FileChannel ch = held;
        held = null;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                // read-only channel: nothing was lost
            }
        }
    }

    /** Reads from offset 0 into {@link #buffer} (grown as needed, up to the limit); returns the length. */
    private int readFrom(FileChannel ch) throws IOException {
        ByteBuffer buf = buffer;
        buf.clear();
        while (true) {
            int n = ch.read(buf, buf.position());
            if (n < 0) {
                break;
            }
            if (!buf.hasRemaining()) {
                if (buf.capacity() >= StepFiles.MAX_OUTCOME) {
                    if (ch.read(ByteBuffer.allocate(1), buf.position()) < 0) {
                        break; // exactly the limit, which is allowed (as SharedFiles.readRegular reads it)
                    }
                    throw MusterException.corrupt("step file " + file + " is larger than " + StepFiles.MAX_OUTCOME
                            + " bytes; remove " + file.getParent());
                }
                ByteBuffer bigger = ByteBuffer.allocate(Math.min(buf.capacity() * 4, StepFiles.MAX_OUTCOME));
                buf.flip();
                bigger.put(buf);
                buf = bigger;
                buffer = bigger;
            }
            if (n == 0 && buf.position() == 0) {
                break;
            }
        }
        return buf.position();
    }

    /**
     * Whether a read() of a file held open sees a write made on another node (or by another process) without
     * reopening it: true for node-local file systems and for the cluster file systems whose clients keep caches
     * coherent with locks or tokens (Lustre, GPFS, CephFS); for NFS only when attribute caching is off
     * ({@code noac}, {@code actimeo=0} or {@code acregmax=0}).
     */
    static boolean readsAreCoherent(MountInfo m) {
        if (m.nfs()) {
            Map<String, String> o = m.options();
            return o.containsKey("noac") || "0".equals(o.get("actimeo")) || "0".equals(o.get("acregmax"));
        }
        return m.scope().equals("node-local") || COHERENT.contains(m.type());
    }
}
