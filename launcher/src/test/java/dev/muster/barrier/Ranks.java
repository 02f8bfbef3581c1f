package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** In-process participants of one step barrier: each rank a thread with its own file operations and socket. */
final class Ranks {
    /** What one rank saw: its outcome or failure, and when it arrived and learned it (System.nanoTime). */
    record Result(
            int rank,
            Outcome outcome,
            MusterException failure,
            long arrivedNanos,
            long doneNanos,
            String via,
            byte[] roster,
            String rosterFrom) {
        int code() {
            return failure == null ? 0 : failure.status();
        }
    }

    final Path root;
    final String key;
    final int size;
    final BarrierSettings settings;
    final Transport.Mode mode;
    final ExecutorService pool;
    volatile TcpBarrier leader;
    /** Each rank's card, when set (the roster tests); null: no card, as the plain barrier. */
    volatile java.util.function.IntFunction<Card> cards;
    /** Where the participants' log lines and events go (the soak's --trace); null: nowhere. */
    volatile SoakTrace trace;
    /** When each rank arrived (System.nanoTime), as it happens; {@link #NOT_YET} before. */
    final java.util.concurrent.atomic.AtomicLongArray arrivals;
    /** Each rank's thread's run-queue wait (schedstat, ns) at its arrival and at its return; -1 unknown. */
    final java.util.concurrent.atomic.AtomicLongArray waitAtArrival;

    final java.util.concurrent.atomic.AtomicLongArray waitAtReturn;
    /** Each rank's thread's id in the kernel once it arrived (0: unknown), so that others can read its schedstat. */
    final java.util.concurrent.atomic.AtomicIntegerArray tids;

    static final long NOT_YET = Long.MIN_VALUE;
    /** Ranks that run without a node roster directory (as a follower that predates the per-node fan-out). */
    volatile java.util.function.IntPredicate withoutNodeDir = r -> false;

    Ranks(Path root, String key, int size, Transport.Mode mode, Duration timeout) {
        this(root, key, size, mode, timeout, Duration.ofMillis(20));
    }

    Ranks(Path root, String key, int size, Transport.Mode mode, Duration timeout, Duration pollMax) {
        this.root = root;
        this.key = key;
        this.size = size;
        this.mode = mode;
        this.settings = new BarrierSettings(timeout, pollMax, pollMax.dividedBy(4), Duration.ofSeconds(60));
        this.arrivals = new java.util.concurrent.atomic.AtomicLongArray(size);
        this.waitAtArrival = new java.util.concurrent.atomic.AtomicLongArray(size);
        this.waitAtReturn = new java.util.concurrent.atomic.AtomicLongArray(size);
        this.tids = new java.util.concurrent.atomic.AtomicIntegerArray(size);
        for (int r = 0; r < size; r++) {
            arrivals.set(r, NOT_YET);
            waitAtArrival.set(r, -1);
            waitAtReturn.set(r, -1);
        }
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(null, r, "rank", 256 * 1024);
            t.setDaemon(true);
            return t;
        });
    }

    FileBarrier barrier(int rank) {
        return new FileBarrier(root, key, rank, size, "node" + rank, settings, Clock.SYSTEM, new Random(rank), null);
    }

    CompletableFuture<Result> start(int rank) {
        return start(rank, Map.of("master_addr", "10.0.0.1"));
    }

    CompletableFuture<Result> start(int rank, Map<String, String> data) {
        return CompletableFuture.supplyAsync(() -> run(rank, data), pool);
    }

    Result run(int rank, Map<String, String> data) {
        SoakTrace.bind(trace);
        try {
            SoakTrace.event("rank " + rank + " starts (" + mode + ")");
            Result r = runBound(rank, data);
            long[] sched = SoakTrace.schedstat();
            waitAtReturn.set(rank, sched == null ? -1 : sched[1]);
            SoakTrace.event("rank " + rank + " returns code " + r.code() + " via " + r.via()
                    + (r.failure() == null ? "" : ": " + r.failure().getMessage()));
            return r;
        } finally {
            SoakTrace.bind(null);
        }
    }

    /** Marks {@code rank} as arrived now; returns the time. */
    long arrivedNow(int rank) {
        long[] sched = SoakTrace.schedstat();
        waitAtArrival.set(rank, sched == null ? -1 : sched[1]);
        tids.set(rank, SoakTrace.tid());
        long now = System.nanoTime();
        arrivals.set(rank, now);
        SoakTrace.event("rank " + rank + " arrives");
        return now;
    }

    private Result runBound(int rank, Map<String, String> data) {
        FileBarrier fb = barrier(rank);
        Card c = cards == null ? null : cards.apply(rank);
        if (c != null) {
            fb.stepRoster().card(c);
            if (!withoutNodeDir.test(rank)) {
                fb.stepRoster()
                        .nodeRosterDir(root.resolve("node-rosters")); // one directory for all "nodes": the names differ
            }
        }
        fb.prepare();
        long arrived = arrivedNow(rank);
        if (mode == Transport.Mode.TCP && rank != 0) {
            fb.markArrived(); // as StepSync does: the arrival file follows the TCP hello
        } else {
            fb.arrive();
        }
        try {
            Outcome o;
            if (mode == Transport.Mode.TCP) {
                TcpBarrier tb = new TcpBarrier(fb, InetAddress::getLoopbackAddress, "127.0.0.1");
                if (rank == 0) {
                    leader = tb;
                }
                o = tb.await(data);
            } else {
                o = fb.await(data);
            }
            byte[] roster = fb.roster(o); // the roster in hand counts as released
            long done = System.nanoTime();
            // rank 0 keeps the roster; the others its digest, so that 4,096 copies do not fill the test's heap
            return new Result(
                    rank,
                    o,
                    null,
                    arrived,
                    done,
                    fb.via(),
                    roster == null || rank == 0 ? roster : digest(roster),
                    fb.stepRoster().rosterFrom());
        } catch (MusterException e) {
            return new Result(rank, null, e, arrived, System.nanoTime(), fb.via(), null, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static byte[] digest(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    long sentBytes() {
        TcpBarrier l = leader;
        return l == null ? 0 : l.sentBytes();
    }

    int connected() {
        TcpBarrier l = leader;
        return l == null ? 0 : l.connectedCount();
    }

    void close() {
        pool.shutdownNow();
    }
}
