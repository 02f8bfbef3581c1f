package dev.muster.barrier;

import dev.muster.core.Backoff;
import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.core.SharedFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * The step barrier by the file protocol (DESIGN §4), for one task: the step directory ({@link StepFiles}) is the
 * source of truth, the single writer of the outcome is chosen by {@code link()} of a private file to
 * {@code claim} ({@code O_EXCL} is unreliable on old NFS), and every task polls the pre-created outcome file by
 * reading it ({@link PolledFile}), with backoff and jitter so that thousands of tasks never poll in step. Only
 * rank 0 lists {@code arrival/}. Why the files take this shape: docs/barrier.md#shared-file-systems-and-client-caches.
 */
public final class FileBarrier implements Barrier {
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

    private final StepFiles files;
    private final int rank;
    private final int size;
    private final String node;
    private final Settings settings;
    private final Clock clock;
    private final Random random;
    private final FailureReport report;
    private final PolledFile.Policy pollPolicy;
    private final PolledFile outcomePoll;
    private final PolledFile endpointPoll;
    private final Claim claim;

    private long arrivedNanos;
    private Instant arrivedAt;
    private Instant releasedAt;
    private String via = "file";
    private boolean arrivalWritten;
    /** This task's card (docs/roster.md), encoded; null: a card of node and pid only. */
    private byte[] card;

    private Card ownCard;
    /** The roster's JSON once known: built here (rank 0) or streamed with the TCP release. */
    private byte[] roster;

    private boolean rosterFileDeferred;
    /** Who may take the rest of a TCP wait over (docs/barrier.md, "The small waiter"), or null. */
    private Handover.Taker taker;
    /** The trace line's fields before {@code arrive_us=}, or null without a trace. */
    private String traceHead;

    public FileBarrier(
            Path root,
            String key,
            int rank,
            int size,
            String node,
            Settings settings,
            Clock clock,
            Random random,
            IntFunction<String> expectedNode) {
        this.files = new StepFiles(root, key, size);
        this.rank = rank;
        this.size = size;
        this.node = node;
        this.settings = settings;
        this.clock = clock;
        this.random = random;
        this.report = new FailureReport(rank, size, settings.timeout(), expectedNode);
        this.pollPolicy = new PolledFile.Policy(files.dir);
        this.outcomePoll = new PolledFile(files.outcomeFile, clock, pollPolicy);
        this.endpointPoll = new PolledFile(files.endpointFile, clock, pollPolicy);
        this.claim = new Claim(files, rank, clock, random, outcomePoll);
    }

    public Path dir() {
        return files.dir;
    }

    /** Creates the step directory and the empty outcome file (each exactly once across tasks). */
    @Override
    public void prepare() {
        try {
            files.create(rank);
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot prepare step directory " + files.dir + ": " + e
                    + "; check that the sync directory is writable");
        }
        refuseLeftover();
    }

    /** How much older than the barrier timeout an untouched outcome file must be to count as a leftover. */
    static final Duration LEFTOVER_SLACK = Duration.ofSeconds(60);

    /**
     * Refuses a step directory that an earlier step with the same key left behind (a killed job whose clean-up
     * never ran, keys reused), so that nobody is released by its leftovers: before this task has arrived, a
     * release cannot exist, nor its own arrival file; and an outcome file still empty long after the barrier
     * timeout belongs to a step whose tasks are all gone (a live one would have decided a timeout by then). The
     * first task that notices aborts the step with 65, so the others learn it at once. A leftover younger than
     * the timeout cannot be told from a live step this task is late for (docs/security.md).
     */
    private void refuseLeftover() {
        String why = null;
        Outcome decided;
        try {
            byte[] b = readOnce(files.outcomeFile);
            decided = Outcome.decode(b, b.length, files.outcomeFile.toString());
        } catch (MusterException e) {
            decided = null; // damage is reported by the polls, with its own message
        }
        if (decided != null && decided.kind() == Outcome.Kind.RELEASE) {
            why = "the release of an earlier step";
        } else if (Files.exists(files.arrivalFile(rank), LinkOption.NOFOLLOW_LINKS)) {
            why = "an arrival of rank " + rank + " from before this task started";
        } else if (decided == null) {
            try {
                // the file's time is the file system's wall clock: compared with this machine's, not with the
                // injected clock, which tests wind at will
                long age = System.currentTimeMillis()
                        - Files.getLastModifiedTime(files.outcomeFile, LinkOption.NOFOLLOW_LINKS)
                                .toMillis();
                if (age > settings.timeout().plus(LEFTOVER_SLACK).toMillis()) {
                    why = "an undecided step started " + age / 1000 + " s ago, longer than the timeout";
                }
            } catch (IOException e) {
                // gone meanwhile: nothing left over
            }
        }
        if (why == null) {
            return;
        }
        String message = "step directory " + files.dir + " holds " + why + " with the same key, left by a killed "
                + "job; remove it (muster sweep, or rm -r) and start the step again";
        if (decided == null) {
            decide(Outcome.abort(rank, ExitCodes.CORRUPT, message));
        }
        throw MusterException.corrupt(message);
    }

    /** The whole of a small step file, read once (empty when missing). */
    private byte[] readOnce(Path file) {
        try (java.nio.channels.FileChannel ch = SharedFiles.openRegular(file)) {
            java.nio.ByteBuffer buf =
                    java.nio.ByteBuffer.allocate((int) Math.min(ch.size() + 1, StepFiles.MAX_OUTCOME));
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // small: one or two reads
            }
            return java.util.Arrays.copyOf(buf.array(), buf.position());
        } catch (SharedFiles.NotRegularFile e) {
            throw MusterException.corrupt(
                    "step file " + file + " is " + e.kind() + ", not a regular file; remove " + files.dir);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /** Marks this task as arrived and writes its arrival file. Its deadline starts now. */
    @Override
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
        String info = "host=" + node + " pid=" + Posix.pid() + " time=" + arrivedAt + "\n";
        try {
            files.writeArrival(rank, RosterFiles.arrival(info, card));
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write arrival file in " + files.arrivalDir + ": " + e);
        }
    }

    @Override
    public Outcome await(Map<String, String> releaseData) throws InterruptedException {
        long deadline = deadlineNanos();
        Backoff backoff = Backoff.polls((rank == 0 ? settings.leaderPoll() : settings.pollMax()).toNanos(), random);
        long nextProgress = arrivedNanos + settings.progress().toNanos() / 2;
        BitSet arrived = new BitSet(size);
        while (true) {
            Outcome o = readOutcome();
            if (o != null) {
                return finish(o);
            }
            long now = clock.nanoTime();
            if (rank == 0) {
                files.listArrivals(
                        arrived,
                        pollPolicy.forcesSync()); // arrival files never go away while the step waits: only new ones
                // matter
                if (arrived.cardinality() == size) {
                    return finish(decide(Outcome.release(0, withRoster(releaseData, null, false, false))));
                }
                if (now >= deadline) {
                    return finish(decide(Outcome.timeout(0, missing(arrived))));
                }
                if (now >= nextProgress) {
                    Log.info(arrived.cardinality() + "/" + size + " arrived, waiting for "
                            + FailureReport.ranks(missing(arrived)) + " (" + FailureReport.secondsLeft(deadline, now)
                            + " s left)");
                    nextProgress = now + settings.progress().toNanos();
                }
            } else {
                if (now >= deadline) {
                    return finish(ownTimeout());
                }
                if (now >= nextProgress) {
                    Log.info("waiting for the release from rank 0 (" + FailureReport.secondsLeft(deadline, now)
                            + " s left)");
                    nextProgress = now + settings.progress().toNanos() * 3;
                }
            }
            clock.sleep(backoff.next(deadline - now));
        }
    }

    /** Why rank 0 is taken for unresponsive: silent over TCP for {@code silentNanos}, with the node Slurm put it on. */
    String unresponsiveLeader(long silentNanos) {
        return report.unresponsive(0, silentNanos);
    }

    /** A non-zero rank at its deadline: rank 0's list if it wrote one, else one listing of its own. */
    Outcome ownTimeout() {
        Outcome o = readOutcome();
        if (o != null) {
            return o;
        }
        return Outcome.timeout(rank, missing(listArrivals()));
    }

    @Override
    public void abort(int code, String reason) {
        decide(Outcome.abort(rank, code, reason));
    }

    @Override
    public void depart() {
        try {
            SharedFiles.openRegularForWrite(files.departure(rank), true).close();
        } catch (IOException e) {
            // only delays the clean-up, which is bounded; sweep removes what is left
            Log.debug("cannot write departure file: " + e);
        }
    }

    /** Sets this task's card, checked ({@link Card#check}); it travels with the arrival. */
    public void card(Card c) {
        this.card = c.check();
        this.ownCard = c;
    }

    /** This task's encoded card, or null when it has none (the TCP hello is then of version 1). */
    byte[] cardBytes() {
        return card;
    }

    /** Rank 0: {@code data} with the roster added if it asks for one ({@link RosterFiles#addRoster}). */
    Map<String, String> withRoster(
            Map<String, String> data, IntFunction<byte[]> tcpCards, boolean tcp, boolean allConnected) {
        Card own = ownCard != null ? ownCard : Card.minimal(0, node, Posix.pid());
        byte[][] out = new byte[1][];
        Map<String, String> d = RosterFiles.addRoster(files, data, own, tcpCards, tcp, allConnected, clock, out);
        if (out[0] != null) {
            roster = out[0];
            rosterFileDeferred = tcp && allConnected && "tcp".equals(d.get(Roster.VIA));
        }
        return d;
    }

    /** Rank 0, after the TCP release went out: writes the roster file it deferred (see RosterFiles#addRoster). */
    void writeDeferredRoster() {
        if (rosterFileDeferred) {
            rosterFileDeferred = false;
            RosterFiles.write(files, roster);
        }
    }

    /** The roster streamed with the TCP release. */
    void receivedRoster(byte[] bytes) {
        roster = bytes;
    }

    /** Rank 0's roster as built, for streaming after the outcome. */
    byte[] builtRoster() {
        return roster;
    }

    /**
     * After the release, before the departure: the roster's JSON, or null when the release carries none. Read
     * from the step's roster file unless it came over TCP or this is rank 0.
     */
    public byte[] roster(Outcome release) {
        if (release.data().get(Roster.BYTES) == null) {
            return null;
        }
        if (roster == null) {
            roster = RosterFiles.read(files, release, clock);
        }
        return roster;
    }

    /** Lets {@code t} take a connected task's wait over; {@code head}: the trace line's first fields, or null. */
    void handOver(Handover.Taker t, String head) {
        taker = t;
        traceHead = head;
    }

    Handover.Taker taker() {
        return taker;
    }

    /** The trace line up to {@code release_us=}, or null without a trace. */
    String traceLine() {
        return traceHead == null ? null : traceHead + " arrive_us=" + micros(arrivedAt);
    }

    static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    Path departureFile() {
        return files.departure(rank);
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

    /** A fresh backoff for a polling loop of this task, up to {@code ceiling} nanoseconds. */
    Backoff backoff(long ceiling) {
        return Backoff.polls(ceiling, random);
    }

    /** A fresh backoff for retries of this task: from {@code first}, times {@code factor}, pauses in [b/2, 3b/2). */
    Backoff retries(long first, long factor) {
        return new Backoff(first, Long.MAX_VALUE / factor, factor, 0.5, 1.5, random);
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

    /** Writes {@code o} as the outcome if nobody has decided yet, else returns the outcome already decided. */
    Outcome decide(Outcome o) {
        return claim.decide(o);
    }

    /** The outcome, or null while undecided. Read only, never stat()ed ({@link PolledFile}). */
    Outcome readOutcome() {
        return outcomePoll.outcome();
    }

    /** Rank 0's TCP endpoint, or null while rank 0 has not published it. Polled like the outcome. */
    TcpEndpoint readEndpoint() {
        return endpointPoll.endpoint();
    }

    /**
     * Rank 0: fills the pre-created endpoint file with one write(), as the outcome is written; not temp file +
     * rename, which would make the others poll a name that does not exist yet. The file is 0600: its token
     * admits a connection.
     */
    void publishEndpoint(TcpEndpoint ep) {
        try {
            StepFiles.fill(files.endpointFile, ep.encode());
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write the endpoint file in " + files.dir + ": " + e
                    + "; check that the sync directory is writable");
        }
    }

    /** Polls as on NFS with attribute caching, one open() per poll, whatever the mount (for tests: no NFS here). */
    void pollByOpenOnly() {
        pollPolicy.byOpenOnly();
    }

    /** Whether polls may hold a step file open on mount {@code m} (see {@link PolledFile#readsAreCoherent}). */
    public static boolean readsAreCoherent(MountInfo m) {
        return PolledFile.readsAreCoherent(m);
    }

    /** Closes the step files held open by polls (after the outcome: nothing is polled any more). */
    private void closePolls() {
        pollPolicy.finish();
        outcomePoll.close();
        endpointPoll.close();
    }

    /** Every rank whose arrival file exists. */
    BitSet listArrivals() {
        return listArrivals(new BitSet(size));
    }

    /** Adds to {@code seen} the ranks whose arrival files exist (see {@link StepFiles#listArrivals}). */
    BitSet listArrivals(BitSet seen) {
        return files.listArrivals(seen, pollPolicy.forcesSync());
    }

    List<Integer> missing(BitSet arrived) {
        return report.missing(arrived);
    }

    /** Ends this task's wait with {@code o}: returns the release, throws the failure. */
    Outcome finish(Outcome o) {
        releasedAt = Instant.now();
        closePolls();
        if (o.kind() != Outcome.Kind.RELEASE) {
            throw report.of(o, claim.mine());
        }
        // Give the processor up once before the work that follows (departure, exec): on a node with more tasks
        // than cores, the tasks woken by the same release then all learn it before any of them runs its exec,
        // instead of one after another's whole exec. The total work is the same.
        Thread.yield();
        return o;
    }
}
