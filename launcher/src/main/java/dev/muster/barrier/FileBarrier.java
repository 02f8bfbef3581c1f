package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * The step barrier, file protocol version 1 (DESIGN §4), for one task.
 *
 * <pre>
 * &lt;root&gt;/&lt;key&gt;/arrival/&lt;g&gt;/&lt;rank&gt; made by each task on arrival (host, pid, time), g = rank / width
 * &lt;root&gt;/&lt;key&gt;/outcome             made empty by the first task; filled once, by one write()
 * &lt;root&gt;/&lt;key&gt;/endpoint            made empty (0600) by the first task; rank 0 writes its TCP address once
 * &lt;root&gt;/&lt;key&gt;/claim               hard link whose creation decides who writes the outcome
 * &lt;root&gt;/&lt;key&gt;/departure/&lt;rank&gt;   made by each task after it has seen the release
 * </pre>
 *
 * <p>Arrivals are spread over about sqrt(N) groups of about sqrt(N) entries ({@code width} = ceil(sqrt(N))), so
 * that rank 0 never lists a directory of thousands of entries and lists again only the groups that still miss
 * somebody. Rank 0 creates every group directory in {@link #prepare()} before it first lists, and every task
 * creates its own group with mkdir (EEXIST is fine) before writing into it: nobody looks up a directory that may
 * not exist yet, which NFS would remember as missing.
 *
 * <p>Shared file systems decide the shape. On NFS a failed lookup is cached until the directory's attributes
 * expire, and stat() is answered from the attribute cache; open() revalidates (close-to-open consistency). So no
 * task ever polls for a name that does not exist yet: the outcome file exists before anyone polls it, and is
 * polled by reading it, never by stat() ({@link Polled} says when a descriptor may be held open between polls and
 * when every poll must open the file). Only rank 0 lists {@code arrival/}; everyone else reads that one file, with
 * exponential backoff and jitter so that thousands of tasks never poll in step. {@code O_EXCL} is unreliable on
 * old NFS, so the single writer is chosen by {@code link()} of a private file to {@code claim}.
 */
public final class FileBarrier {
    /** Largest outcome muster reads: a release carries rendezvous records, never megabytes. */
    static final int MAX_OUTCOME = 1 << 20;
    /** A step file held open by polls is opened afresh this often (see {@link Polled}). */
    static final long REOPEN_NANOS = 2_000_000_000L;

    /**
     * @param timeout      each task's deadline, counted from its own arrival
     * @param pollMax      ceiling of the outcome poll interval
     * @param leaderPoll   ceiling of rank 0's listing interval (rank 0 alone lists, so it can afford to be quicker)
     * @param progress     interval of progress lines; the first comes after half of it
     */
    public record Settings(Duration timeout, Duration pollMax, Duration leaderPoll, Duration progress) {
        public static Settings of(Duration timeout, Duration pollMax) {
            // rank 0 alone lists, and only the groups still missing somebody: a quarter of the others' ceiling
            // notices the last arrival quickly while keeping the step's listings >= 10x below one per task per poll
            Duration leader = Duration.ofNanos(pollMax.toNanos() / 4); // dividedBy would load BigDecimal
            if (leader.compareTo(Duration.ofMillis(1)) < 0) {
                leader = Duration.ofMillis(1);
            }
            return new Settings(timeout, pollMax, leader, Duration.ofSeconds(10));
        }
    }

    private final Path dir;
    private final Path arrivalDir;
    private final Path departureDir;
    private final Path outcomeFile;
    private final Path endpointFile;
    private final int width;
    private final int rank;
    private final int size;
    private final String node;
    private final Settings settings;
    private final Clock clock;
    private final Random random;
    private final IntFunction<String> expectedNode;
    private ByteBuffer readBuffer = ByteBuffer.allocate(8192);
    private final Polled outcomePoll;
    private final Polled endpointPoll;
    /** Null until the first poll that finds nothing; see {@link Polled}. */
    private Boolean holdOpen;
    private boolean finished;

    private long arrivedNanos;
    private Instant arrivedAt;
    private Instant releasedAt;
    private volatile boolean claimedByMe;
    private String via = "file";
    private boolean arrivalWritten;

    public FileBarrier(Path root, String key, int rank, int size, String node, Settings settings, Clock clock,
            Random random, IntFunction<String> expectedNode) {
        this.dir = root.resolve(key);
        this.arrivalDir = dir.resolve("arrival");
        this.departureDir = dir.resolve("departure");
        this.outcomeFile = dir.resolve("outcome");
        this.endpointFile = dir.resolve("endpoint");
        this.width = width(size);
        this.rank = rank;
        this.size = size;
        this.node = node;
        this.settings = settings;
        this.clock = clock;
        this.random = random;
        this.expectedNode = expectedNode;
        this.outcomePoll = new Polled(outcomeFile);
        this.endpointPoll = new Polled(endpointFile);
    }

    public Path dir() {
        return dir;
    }

    /** Creates the step directory and the empty outcome file (each exactly once across tasks). */
    public void prepare() {
        try {
            SyncRoot.makePrivateDir(dir, "step directory");
            SyncRoot.makePrivateDir(arrivalDir, "step directory");
            SyncRoot.makePrivateDir(departureDir, "step directory");
            try {
                Files.newByteChannel(outcomeFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS).close();
            } catch (FileAlreadyExistsException e) {
                // another task made it first
            }
            if (!Files.isRegularFile(outcomeFile, LinkOption.NOFOLLOW_LINKS)) {
                throw MusterException.corrupt("outcome file " + outcomeFile + " is not a regular file (a link or "
                        + "directory?); remove " + dir + " or choose another sync directory");
            }
            try {
                // 0600: it carries the token that admits a connection to rank 0
                Files.newByteChannel(endpointFile, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------"))).close();
            } catch (FileAlreadyExistsException e) {
                // another task made it first
            }
            if (rank == 0) {
                for (int g = 0; g * width < size; g++) {
                    SyncRoot.makePrivateDir(arrivalDir.resolve(Integer.toString(g)), "step directory");
                }
            }
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot prepare step directory " + dir + ": " + e
                    + "; check that the sync directory is writable");
        }
    }

    /** Marks this task as arrived and writes its arrival file. Its deadline starts now. */
    public void arrive() {
        markArrived();
        writeArrival();
    }

    /**
     * Marks this task as arrived without writing the file yet: on the TCP path a task connects first and writes
     * its arrival file right after, so that rank 0 counts it by its hello rather than by a listing that happens
     * to come first (and then refuses its connection because it has already released).
     */
    void markArrived() {
        arrivedNanos = clock.nanoTime();
        arrivedAt = Instant.now();
    }

    /** Writes this task's arrival file once (diagnostics, the file fallback, and timeout lists). */
    void writeArrival() {
        if (arrivalWritten) {
            return;
        }
        arrivalWritten = true;
        String info = "host=" + node + " pid=" + dev.muster.core.Posix.pid() + " time=" + arrivedAt + "\n";
        Path group = arrivalDir.resolve(Integer.toString(rank / width));
        try {
            try {
                Files.createDirectory(group, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                // rank 0 or another task of the group made it
            }
            Files.write(group.resolve(Integer.toString(rank)), info.getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                    LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write arrival file in " + arrivalDir + ": " + e);
        }
    }

    /**
     * Waits until the outcome is decided. Returns the release; throws the abort or timeout as a
     * {@link MusterException} with the code every task of the step exits with.
     *
     * @param releaseData what rank 0 hands to every task in the release (ignored on other ranks)
     */
    public Outcome await(Map<String, String> releaseData) throws InterruptedException {
        long deadline = arrivedNanos + settings.timeout().toNanos();
        long ceiling = (rank == 0 ? settings.leaderPoll() : settings.pollMax()).toNanos();
        long backoff = Math.min(1_000_000L, ceiling);
        long nextProgress = arrivedNanos + settings.progress().toNanos() / 2;
        BitSet arrived = new BitSet(size);
        while (true) {
            Outcome o = readOutcome();
            if (o != null) {
                return finish(o);
            }
            long now = clock.nanoTime();
            if (rank == 0) {
                listArrivals(arrived); // arrival files never go away while the step waits: only new ones matter
                if (arrived.cardinality() == size) {
                    return finish(decide(Outcome.release(0, releaseData)));
                }
                if (now >= deadline) {
                    return finish(decide(Outcome.timeout(0, missing(arrived))));
                }
                if (now >= nextProgress) {
                    List<Integer> miss = missing(arrived);
                    Log.info(arrived.cardinality() + "/" + size + " arrived, waiting for " + ranks(miss)
                            + " (" + secondsLeft(deadline, now) + " s left)");
                    nextProgress = now + settings.progress().toNanos();
                }
            } else {
                if (now >= deadline) {
                    return finish(ownTimeout());
                }
                if (now >= nextProgress) {
                    Log.info("waiting for the release from rank 0 (" + secondsLeft(deadline, now) + " s left)");
                    nextProgress = now + settings.progress().toNanos() * 3;
                }
            }
            long pause = backoff / 2 + (long) (random.nextDouble() * (backoff / 2));
            clock.sleep(Math.max(1, Math.min(pause, deadline - now)));
            backoff = Math.min(backoff * 2, ceiling);
        }
    }

    /** A non-zero rank at its deadline: rank 0's list if it wrote one, else one listing of its own. */
    Outcome ownTimeout() {
        Outcome o = readOutcome();
        if (o != null) {
            return o;
        }
        return Outcome.timeout(rank, missing(listArrivals()));
    }

    /** Aborts the step: the first outcome wins; every waiting task exits with {@code code}. */
    public void abort(int code, String reason) {
        decide(Outcome.abort(rank, code, reason));
    }

    /** After the release: lets the clean-up know this task no longer needs the step directory. */
    public void depart() {
        try {
            Files.newByteChannel(departureDir.resolve(Integer.toString(rank)), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS).close();
        } catch (IOException e) {
            // only delays the clean-up, which is bounded; sweep removes what is left
            Log.debug("cannot write departure file: " + e);
        }
    }

    /** This task's deadline on the {@link Clock}'s nanosecond scale. */
    long deadlineNanos() {
        return arrivedNanos + settings.timeout().toNanos();
    }

    long arrivedNanos() {
        return arrivedNanos;
    }

    int rank() {
        return rank;
    }

    int size() {
        return size;
    }

    Settings settings() {
        return settings;
    }

    Clock clock() {
        return clock;
    }

    Random random() {
        return random;
    }

    /** How this task learned the outcome: tcp, file or sarus (for the trace). */
    String via() {
        return via;
    }

    void via(String how) {
        via = how;
    }

    public Instant arrivedAt() {
        return arrivedAt;
    }

    public Instant releasedAt() {
        return releasedAt;
    }

    /**
     * Writes {@code o} as the outcome if nobody has decided yet, else returns the outcome already decided. The
     * winner is whoever creates the {@code claim} link first.
     */
    Outcome decide(Outcome o) {
        byte[] bytes = o.encode();
        Path tmp = dir.resolve(".claim." + rank + "." + dev.muster.core.Posix.pid() + "." + Long.toHexString(
                random.nextLong()));
        boolean won;
        try {
            Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            try {
                Files.createLink(dir.resolve("claim"), tmp);
                won = true;
            } catch (FileAlreadyExistsException e) {
                won = false;
            } finally {
                Files.deleteIfExists(tmp);
            }
            if (won) {
                claimedByMe = true;
                try (FileChannel ch = FileChannel.open(outcomeFile, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS)) {
                    // one write() of the whole outcome: readers see nothing or everything (short reads retry)
                    ByteBuffer buf = ByteBuffer.wrap(bytes);
                    long at = 0;
                    while (buf.hasRemaining()) {
                        at += ch.write(buf, at);
                    }
                }
                return o;
            }
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write the outcome in " + dir + ": " + e);
        }
        // lost: the winner is writing right now
        long until = clock.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            Outcome existing = readOutcome();
            if (existing != null) {
                return existing;
            }
            if (clock.nanoTime() > until) {
                throw MusterException.corrupt("step directory " + dir + " has a claim but no outcome after 10 s; "
                        + "its writer died: remove the directory (muster sweep)");
            }
            try {
                clock.sleep(1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw MusterException.internal("interrupted", e);
            }
        }
    }

    /** The outcome, or null while undecided. Read only, never stat()ed: see the class comment and {@link Polled}. */
    synchronized Outcome readOutcome() {
        int n = outcomePoll.read();
        return n <= 0 ? null : Outcome.decode(readBuffer.array(), n, outcomeFile.toString());
    }

    /** Rank 0's TCP endpoint, or null while rank 0 has not published it. Polled like the outcome. */
    synchronized TcpEndpoint readEndpoint() {
        int n = endpointPoll.read();
        return n <= 0 ? null : TcpEndpoint.decode(readBuffer.array(), n);
    }

    /**
     * Rank 0: fills the pre-created endpoint file with one write(), as the outcome is written. Not temp file +
     * rename: the others would then poll for a name that does not exist yet, and NFS caches such a miss until the
     * directory's attributes expire (seconds to a minute). A reader that catches the write half done sees no
     * {@code end} line and reads again; the file was created 0600 because the token admits a connection.
     */
    void publishEndpoint(TcpEndpoint ep) {
        try (FileChannel ch = FileChannel.open(endpointFile, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buf = ByteBuffer.wrap(ep.encode());
            long at = 0;
            while (buf.hasRemaining()) {
                at += ch.write(buf, at);
            }
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write the endpoint file in " + dir + ": " + e
                    + "; check that the sync directory is writable");
        }
    }

    /**
     * One of the small step files every waiting task polls (outcome, endpoint). Both are created empty ahead of time
     * and filled in place by one write(), so the file a task opened is the file that gets written.
     *
     * <p>Where reads of an open file see other nodes' writes at once (local file systems, Lustre, GPFS, CephFS: see
     * {@link #readsAreCoherent}), the file is opened at the first poll that finds it empty and then only read with
     * pread(), which makes no metadata call at all: on Lustre a read goes to the object servers under a lock that
     * the writer revokes, on GPFS under a token. It is opened afresh every {@link #REOPEN_NANOS} all the same, so a
     * swept or re-created step directory is noticed as it was before. Elsewhere (NFS with attribute caching, where
     * a read of an open file can be answered from the cache for up to {@code acregmax}; FUSE and unknown types)
     * every poll opens the file, because only open() revalidates (close-to-open consistency).
     */
    private final class Polled {
        private final Path file;
        private FileChannel held;
        private long openedAt;

        Polled(Path file) {
            this.file = file;
        }

        /** Reads the file into {@link #readBuffer}; returns its length, 0 when empty or unreadable for now. */
        int read() {
            long now = clock.nanoTime();
            FileChannel ch = held;
            if (ch != null && now - openedAt >= REOPEN_NANOS) {
                close();
                ch = null;
            }
            try {
                if (ch == null) {
                    ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
                    openedAt = now;
                }
                int n = readFrom(ch, file);
                if (n == 0 && !finished && (ch == held || holdOpen())) {
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

        void close() {
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
    }

    /** Polls as on NFS with attribute caching, one open() per poll, whatever the mount (for tests: no NFS here). */
    void pollByOpenOnly() {
        holdOpen = false;
    }

    /** Whether polls may hold the step files open: decided once, at the first poll that finds nothing. */
    private boolean holdOpen() {
        if (holdOpen == null) {
            MountInfo m = MountInfo.of(dir);
            holdOpen = m != null && readsAreCoherent(m);
            Log.debug("polling the step files " + (holdOpen ? "by pread() on a held descriptor" : "by open() + read()")
                    + " (" + (m == null ? "mount unknown" : m.type() + " on " + m.mountPoint()) + ")");
        }
        return holdOpen;
    }

    /**
     * Whether a read() of a file held open sees a write made on another node (or by another process) without
     * reopening it: true for node-local file systems and for the cluster file systems whose clients keep caches
     * coherent with locks or tokens; for NFS only when attribute caching is off ({@code noac}, {@code actimeo=0}
     * or {@code acregmax=0}), since otherwise the client answers from its cache until the attributes expire.
     */
    public static boolean readsAreCoherent(MountInfo m) {
        if (m.nfs()) {
            java.util.Map<String, String> o = m.options();
            return o.containsKey("noac") || "0".equals(o.get("actimeo")) || "0".equals(o.get("acregmax"));
        }
        return m.scope().equals("node-local") || COHERENT.contains(m.type());
    }

    /** Cluster file systems whose reads of an open file are coherent with other clients' writes. */
    private static final java.util.Set<String> COHERENT = java.util.Set.of("lustre", "gpfs", "ceph", "cephfs");

    /** Closes the step files held open by polls (after the outcome: nothing is polled any more). */
    private synchronized void closePolls() {
        finished = true;
        outcomePoll.close();
        endpointPoll.close();
    }

    /**
     * Reads a small step file from offset 0 into {@link #readBuffer} (grown as needed, up to {@link #MAX_OUTCOME});
     * returns the length (0 when empty).
     */
    private int readFrom(FileChannel ch, Path file) throws IOException {
        ByteBuffer buf = readBuffer;
        buf.clear();
        while (true) {
            int n = ch.read(buf, buf.position());
            if (n < 0) {
                break;
            }
            if (!buf.hasRemaining()) {
                if (buf.capacity() >= MAX_OUTCOME) {
                    throw MusterException.corrupt("step file " + file + " is larger than " + MAX_OUTCOME
                            + " bytes; remove " + dir);
                }
                ByteBuffer bigger = ByteBuffer.allocate(Math.min(buf.capacity() * 4, MAX_OUTCOME));
                buf.flip();
                bigger.put(buf);
                buf = bigger;
                readBuffer = bigger;
            }
            if (n == 0 && buf.position() == 0) {
                break;
            }
        }
        return buf.position();
    }

    /** Every rank whose arrival file exists. */
    BitSet listArrivals() {
        return listArrivals(new BitSet(size));
    }

    /**
     * Adds to {@code seen} the ranks whose arrival files exist, listing only the groups that still miss
     * somebody. Rank 0 made every group before it lists; another task lists only at its deadline.
     */
    BitSet listArrivals(BitSet seen) {
        for (int g = 0; g * width < size; g++) {
            int from = g * width;
            int to = Math.min(size, from + width);
            if (seen.nextClearBit(from) >= to) {
                continue;
            }
            Path group = arrivalDir.resolve(Integer.toString(g));
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(group)) {
                for (Path p : ds) {
                    int r = parseRank(p.getFileName().toString());
                    if (r >= from && r < to) {
                        seen.set(r);
                    }
                    // anything else is a foreign file: ignored
                }
            } catch (NoSuchFileException e) {
                // nobody of this group has arrived (only a non-zero rank at its deadline can get here)
            } catch (IOException e) {
                Log.debug("listing " + group + ": " + e);
            }
        }
        return seen;
    }

    /** Arrival files per group directory: ceil(sqrt(size)). */
    static int width(int size) {
        int w = (int) Math.ceil(Math.sqrt(Math.max(1, size)));
        while ((long) w * w < size) {
            w++;
        }
        return Math.max(1, w);
    }

    static int parseRank(String name) {
        if (name.isEmpty() || name.length() > 9) {
            return -1;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return -1;
            }
        }
        if (name.length() > 1 && name.charAt(0) == '0') {
            return -1;
        }
        return Integer.parseInt(name);
    }

    List<Integer> missing(BitSet arrived) {
        List<Integer> out = new ArrayList<>();
        for (int r = arrived.nextClearBit(0); r < size; r = arrived.nextClearBit(r + 1)) {
            out.add(r);
        }
        return out;
    }

    Outcome finish(Outcome o) {
        releasedAt = Instant.now();
        closePolls();
        switch (o.kind()) {
            case RELEASE:
                // Give the processor up once before the work that follows (departure, exec): on a node with more
                // tasks than cores, the tasks woken by the same release then all learn it before any of them runs
                // its exec, instead of one after another's whole exec. The total work is the same.
                Thread.yield();
                return o;
            case TIMEOUT:
                throw new MusterException(ExitCodes.TIMEOUT, "barrier timed out after "
                        + seconds(settings.timeout()) + " s: " + (size - o.missing().size()) + "/" + size
                        + " arrived, missing " + describe(o.missing()) + "; check that every task starts muster"
                        + " (or raise --timeout)");
            case ABORT:
            default:
                if (o.rank() == rank && claimedByMe) {
                    throw new MusterException(o.code() > 0 ? o.code() : ExitCodes.PEER_ABORTED, o.reason());
                }
                int code = o.code() > 0 ? o.code() : ExitCodes.PEER_ABORTED;
                throw new MusterException(code, "rank " + o.rank() + " aborted the barrier: " + o.reason()
                        + " (exit " + code + ")");
        }
    }

    private String describe(List<Integer> missing) {
        StringBuilder b = new StringBuilder(missing.size() == 1 ? "rank " : "ranks ").append(ranks(missing));
        if (expectedNode != null) {
            List<String> nodes = new ArrayList<>();
            for (int r : missing) {
                String n = expectedNode.apply(r);
                if (n != null && !nodes.contains(n)) {
                    nodes.add(n);
                }
            }
            if (!nodes.isEmpty()) {
                b.append(" (expected on ").append(String.join(",", nodes.subList(0, Math.min(8, nodes.size()))))
                        .append(nodes.size() > 8 ? ",..." : "").append(')');
            }
        }
        return b.toString();
    }

    static String ranks(List<Integer> ranks) {
        if (ranks.size() <= 16) {
            return Outcome.joinRanks(ranks);
        }
        return Outcome.joinRanks(ranks.subList(0, 16)) + ",... (" + ranks.size() + " in all)";
    }

    private static long secondsLeft(long deadline, long now) {
        return Math.max(0, (deadline - now) / 1_000_000_000L);
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : String.format("%.3f", d.toMillis() / 1e3);
    }
}
