package dev.muster.barrier;

import dev.muster.core.Backoff;
import dev.muster.core.Clock;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.core.SharedFiles;
import java.io.IOException;
import java.nio.file.Path;
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
    private final StepFiles files;
    private final int rank;
    private final int size;
    private final String node;
    private final BarrierSettings settings;
    private final Clock clock;
    private final Random random;
    private final FailureReport report;
    private final StepPolls polls;
    private final Claim claim;

    private long arrivedNanos;
    private Instant arrivedAt;
    private Instant releasedAt;
    private String via = "file";
    private boolean arrivalWritten;
    /** The arrival file's content, made when the task arrives ({@link #markArrived}). */
    private byte[] arrivalInfo;

    private final StepRoster roster;
    /** The small waiter's side of this task (docs/barrier.md, "The small waiter"). */
    private final WaiterHandOff handOff = new WaiterHandOff(this);

    public FileBarrier(
            Path root,
            String key,
            int rank,
            int size,
            String node,
            BarrierSettings settings,
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
        this.polls = new StepPolls(files, clock);
        this.claim = new Claim(files, rank, clock, random, polls.outcomeFile());
        this.roster = new StepRoster(files, node, clock);
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
        Leftover.refuse(files, rank, settings.timeout(), claim);
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
        // the file's content now, not when it is written: on the TCP path that is right after rank 0's ok, when
        // the last task to arrive has the release within milliseconds, and a cold JVM pays for Instant.toString
        arrivalInfo = RosterFiles.arrival(
                "host=" + node + " pid=" + Posix.pid() + " time=" + arrivedAt + "\n", roster.cardBytes());
    }

    /** The arrival file's content ({@link #markArrived}) while it is not written yet; null once it is. */
    byte[] unwrittenArrival() {
        return arrivalWritten ? null : arrivalInfo;
    }

    /** Writes this task's arrival file once (diagnostics, the file fallback, and timeout lists). */
    void writeArrival() {
        if (arrivalWritten) {
            return;
        }
        arrivalWritten = true;
        try {
            files.writeArrival(rank, arrivalInfo);
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write arrival file in " + files.arrivalDir + ": " + e);
        }
    }

    @Override
    public Outcome await(Map<String, String> releaseData) throws InterruptedException {
        return FileWait.await(this, releaseData);
    }

    /**
     * One look of rank 0 by the file protocol: the outcome if one is decided, else the release once every arrival
     * file is there, else the timeout at its deadline; null while none of these. {@code arrived} keeps what the
     * listings saw (arrival files never go away while the step waits).
     */
    Outcome leaderRound(BitSet arrived, Map<String, String> releaseData, long now) {
        Outcome o = readOutcome();
        if (o != null) {
            return o;
        }
        listArrivals(arrived);
        if (arrived.cardinality() == size) {
            return decide(Outcome.release(0, roster.withRoster(releaseData, null, false, false)));
        }
        if (now >= deadlineNanos()) {
            return decide(Outcome.timeout(0, missing(arrived)));
        }
        return null;
    }

    /** Why rank 0 is taken for unresponsive: silent over TCP for {@code silentNanos}, with the node Slurm put it on. */
    String unresponsiveLeader(long silentNanos) {
        return report.unresponsive(0, silentNanos);
    }

    /**
     * A non-zero rank at its deadline: the outcome if one is decided, else a timeout with one listing of its own,
     * claimed like any other outcome. Claimed, not only reported: a task that gives up while rank 0 has not decided
     * yet (rank 0 starved of CPU, stopped, or slow to see the last arrival) must make a later release impossible,
     * since its arrival file and its bye still count it as arrived. Rank 0 would otherwise release a step one of
     * whose tasks has already failed with 75. Now either rank 0's release won the claim first, and this task is
     * released too, or this timeout did, and rank 0 and every other task fail with it.
     */
    Outcome ownTimeout() {
        Outcome o = readOutcome();
        if (o != null) {
            return o;
        }
        return decide(Outcome.timeout(rank, missing(listArrivals())));
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

    /** After the release, before the departure: the roster's JSON, or null without one ({@link StepRoster#roster}). */
    public byte[] roster(Outcome release) {
        return roster.roster(release, rank);
    }

    /** This task's card and the step's roster: the card to send, the roster's node file and its origin. */
    StepRoster stepRoster() {
        return roster;
    }

    WaiterHandOff handOff() {
        return handOff;
    }

    StepFiles files() {
        return files;
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

    BarrierSettings settings() {
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
        return polls.outcome();
    }

    /** The outcome and endpoint files this task polls; rank 0 publishes its TCP endpoint there. */
    StepPolls polls() {
        return polls;
    }

    /** Every rank whose arrival file exists. */
    BitSet listArrivals() {
        return listArrivals(new BitSet(size));
    }

    /** Adds to {@code seen} the ranks whose arrival files exist (see {@link StepFiles#listArrivals}). */
    BitSet listArrivals(BitSet seen) {
        return files.listArrivals(seen, polls.forcesSync());
    }

    List<Integer> missing(BitSet arrived) {
        return report.missing(arrived);
    }

    /** Ends this task's wait with {@code o}: returns the release, throws the failure. */
    Outcome finish(Outcome o) {
        releasedAt = Instant.now();
        polls.close(); // nothing is polled any more
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
