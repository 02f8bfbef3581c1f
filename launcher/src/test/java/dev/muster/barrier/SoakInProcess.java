package dev.muster.barrier;

import dev.muster.core.ExitCodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One soak barrier of in-process participants (threads, each with its own {@link FileBarrier} and, on the TCP
 * path, its own socket) against a real directory, with one fault injected at a random point. A killed task is a
 * participant that stops where the fault says (it never arrives, or arrives and is never heard of again); SIGTERM
 * while waiting is what muster's handler does, an abort with 128 + 15 before dying.
 */
final class SoakInProcess {
    // generous: participants are threads of one JVM on a shared machine, and a thread starved of CPU for the
    // whole timeout would be counted as a wrong code; the real steps have 30 s
    static final Duration TIMEOUT = Duration.ofSeconds(15);
    /**
     * A participant is hung when it has not returned this long after its own deadline (its arrival plus
     * {@link #TIMEOUT}; for one that never arrived, its start plus the timeout). After its deadline a task only
     * lists, claims and writes once: milliseconds, or up to {@code Claim}'s 10 s wait for a claim's winner that is
     * itself starved.
     */
    static final long HUNG_SLACK_NANOS = 10_000_000_000L;
    /**
     * A participant past {@link #HUNG_SLACK_NANOS} that spent at least this much of the slack runnable on a run
     * queue without a CPU (its thread's schedstat) is counted as starved, not hung: the machine, not muster, held
     * it.
     */
    static final long STARVED_NANOS = HUNG_SLACK_NANOS / 2;

    /** Whether failed barriers print their trace (the soak's --trace). */
    static volatile boolean trace;

    /** One participant: its rank, when it was started, and its run. */
    record Run(int rank, long started, CompletableFuture<Ranks.Result> future) {}

    private SoakInProcess() {}

    /** Runs one barrier; returns what it found. {@code fullRoot} null: the full-directory fault is skipped. */
    static Soak.Verdict run(
            Soak.Fault fault, int size, boolean tcp, Path root, Path fullRoot, String key, Random random)
            throws Exception {
        Transport.Mode mode = tcp && fault != Soak.Fault.KILL_AFTER && fault != Soak.Fault.FULL_DIR
                ? Transport.Mode.TCP
                : Transport.Mode.FILE;
        Ranks ranks = new Ranks(fault == Soak.Fault.FULL_DIR ? fullRoot : root, key, size, mode, TIMEOUT);
        SoakTrace t = trace ? new SoakTrace() : null;
        ranks.trace = t;
        int victim = random.nextInt(size);
        int other = (victim + 1 + random.nextInt(size - 1)) % size;
        List<Run> runs = new ArrayList<>();
        Set<Integer> expected = Set.of(0);
        long started = System.nanoTime();
        SoakTrace.bind(t);
        try {
            SoakTrace.event(fault + ", n=" + size + ", " + mode + ", victim " + victim + ", other " + other);
            switch (fault) {
                case NONE, FULL_DIR -> {
                    expected = Set.of(fault == Soak.Fault.FULL_DIR ? ExitCodes.UNUSABLE_DIR : 0);
                    startAll(ranks, size, runs);
                }
                case SLOW -> {
                    startAll(ranks, size, runs, victim);
                    LockSupport.parkNanos(random.nextLong(TIMEOUT.toNanos() / 2));
                    start(ranks, victim, runs);
                }
                case KILL_BEFORE -> {
                    expected = Set.of(ExitCodes.TIMEOUT);
                    startAll(ranks, size, runs, victim);
                }
                case KILL_AFTER -> {
                    expected = Set.of(victim == 0 ? ExitCodes.TIMEOUT : 0);
                    LockSupport.parkNanos(random.nextLong(50_000_000L));
                    FileBarrier fb = ranks.barrier(victim);
                    fb.prepare();
                    ranks.arrivedNow(victim);
                    fb.arrive(); // and is killed: no await, no departure
                    startAll(ranks, size, runs, victim);
                }
                case TERM_WAITING -> {
                    // the other participant is held back, so the release cannot come before the signal
                    expected = Set.of(128 + 15);
                    startAll(ranks, size, runs, other, victim);
                    FileBarrier fb = ranks.barrier(victim);
                    fb.prepare();
                    ranks.arrivedNow(victim);
                    fb.arrive();
                    LockSupport.parkNanos(random.nextLong(100_000_000L));
                    SoakTrace.event("rank " + victim + " aborts with 143");
                    fb.abort(128 + 15, "rank " + victim + " was stopped by SIGTERM while waiting");
                    start(ranks, other, runs);
                }
                case FOREIGN_FILE -> {
                    ranks.barrier(0).prepare();
                    dropForeignFiles(ranks.barrier(0).dir(), size, random);
                    startAll(ranks, size, runs);
                }
                case STALE_DIR -> {
                    // refused as a leftover (65) by every participant, never released out of the old directory
                    expected = Set.of(ExitCodes.CORRUPT);
                    leaveStaleStep(ranks, size, random);
                    // one participant late, so that a release out of the stale directory would show as early
                    startAll(ranks, size, runs, victim);
                    LockSupport.parkNanos(50_000_000L + random.nextLong(150_000_000L));
                    start(ranks, victim, runs);
                }
            }
            Soak.Verdict v = judge(fault, ranks, runs, expected, started);
            if (t != null && v.early() + v.hung() + v.wrong() > 0) {
                return new Soak.Verdict(
                        v.real(),
                        v.fault(),
                        v.early(),
                        v.hung(),
                        v.wrong(),
                        v.millis(),
                        v.why() + "\n" + String.join("\n", t.lines()),
                        v.starved());
            }
            return v;
        } finally {
            SoakTrace.bind(null);
            ranks.close();
        }
    }

    private static void start(Ranks ranks, int rank, List<Run> runs) {
        runs.add(new Run(rank, System.nanoTime(), ranks.start(rank)));
    }

    /** Starts every rank but those in {@code except}. */
    private static void startAll(Ranks ranks, int size, List<Run> runs, int... except) {
        outer:
        for (int r = 0; r < size; r++) {
            for (int e : except) {
                if (r == e) {
                    continue outer;
                }
            }
            start(ranks, r, runs);
        }
    }

    /** What another program (or a confused user) leaves in a step directory while the step runs. */
    static void dropForeignFiles(Path dir, int size, Random random) throws IOException {
        Files.writeString(dir.resolve("junk"), "not muster's");
        Files.writeString(dir.resolve("arrival").resolve("x"), "x");
        Path group = Files.createDirectories(dir.resolve("arrival").resolve("0"));
        Files.writeString(group.resolve(Integer.toString(size + random.nextInt(1000))), "a rank beyond the size");
        Files.writeString(group.resolve("-1"), "a negative rank");
        Files.createDirectories(dir.resolve("departure").resolve("junkdir"));
    }

    /**
     * A step directory with the same key left by an earlier step that was killed: either after its release
     * (outcome, arrivals and departures all there, clean-up never ran) or while it waited (some arrivals only,
     * the outcome file still empty). A step killed while waiting left its directory more than a barrier timeout
     * ago: a younger one cannot be told from a live step that this task is late for (docs/security.md).
     */
    private static void leaveStaleStep(Ranks ranks, int size, Random random) throws Exception {
        boolean released = random.nextBoolean();
        List<CompletableFuture<Ranks.Result>> old = new ArrayList<>();
        if (released) {
            for (int r = 0; r < size; r++) {
                old.add(ranks.start(r));
            }
            for (CompletableFuture<Ranks.Result> f : old) {
                f.get(TIMEOUT.toNanos() + HUNG_SLACK_NANOS, TimeUnit.NANOSECONDS);
            }
        } else {
            ranks.barrier(0).prepare();
            for (int r = 1; r < size; r++) {
                if (random.nextBoolean()) {
                    FileBarrier fb = ranks.barrier(r);
                    fb.prepare();
                    fb.arrive();
                }
            }
            java.nio.file.attribute.FileTime then = java.nio.file.attribute.FileTime.fromMillis(
                    System.currentTimeMillis() - TIMEOUT.toMillis() - 120_000);
            try (java.util.stream.Stream<Path> all = Files.walk(ranks.barrier(0).dir())) {
                for (Path p : all.toList()) {
                    Files.setLastModifiedTime(p, then);
                }
            }
        }
    }

    /**
     * Waits for every participant up to its own deadline plus {@link #HUNG_SLACK_NANOS} and judges what each
     * returned. A participant still running then is hung, or starved when its thread waited for a CPU for at least
     * {@link #STARVED_NANOS} after its deadline (sampled from its schedstat at the deadline and at the limit).
     */
    private static Soak.Verdict judge(
            Soak.Fault fault, Ranks ranks, List<Run> runs, Set<Integer> expected, long started)
            throws InterruptedException {
        int hung = 0;
        int starved = 0;
        int wrong = 0;
        int early = 0;
        List<Ranks.Result> results = new ArrayList<>();
        StringBuilder why = new StringBuilder();
        long[] waitAtDeadline = new long[runs.size()];
        java.util.Arrays.fill(waitAtDeadline, -1);
        boolean[] judged = new boolean[runs.size()];
        int left = runs.size();
        while (left > 0) {
            long now = System.nanoTime();
            for (int i = 0; i < runs.size(); i++) {
                if (judged[i]) {
                    continue;
                }
                Run run = runs.get(i);
                long arrived = ranks.arrivals.get(run.rank());
                long deadline = (arrived == Ranks.NOT_YET ? run.started() : arrived) + TIMEOUT.toNanos();
                if (run.future().isDone()) {
                    judged[i] = true;
                    left--;
                    Ranks.Result r = result(run.future(), why);
                    if (r == null) {
                        wrong++;
                    } else {
                        results.add(r);
                    }
                } else if (now - deadline >= HUNG_SLACK_NANOS) {
                    judged[i] = true;
                    left--;
                    int tid = ranks.tids.get(run.rank());
                    long waited = waitAtDeadline[i] < 0 ? -1 : SoakTrace.waitOf(tid) - waitAtDeadline[i];
                    boolean isStarved = waited >= STARVED_NANOS;
                    if (isStarved) {
                        starved++;
                    } else {
                        hung++;
                    }
                    why.append(" rank ")
                            .append(run.rank())
                            .append(isStarved ? " starved" : " hung")
                            .append(": running ")
                            .append(HUNG_SLACK_NANOS / 1_000_000L)
                            .append(" ms past its deadline, ")
                            .append(
                                    waited < 0
                                            ? "run-queue wait unknown"
                                            : waited / 1_000_000L + " ms of it on a run queue")
                            .append(arrived == Ranks.NOT_YET ? " (never arrived)" : "");
                    SoakTrace.event("rank " + run.rank() + (isStarved ? " starved" : " hung") + ": " + why);
                } else if (now >= deadline && waitAtDeadline[i] < 0) {
                    waitAtDeadline[i] = SoakTrace.waitOf(ranks.tids.get(run.rank()));
                }
            }
            if (left > 0) {
                LockSupport.parkNanos(20_000_000L);
            }
        }
        long lastArrival = Long.MIN_VALUE;
        long firstArrival = Long.MAX_VALUE;
        for (int r = 0; r < ranks.size; r++) {
            long a = ranks.arrivals.get(r);
            if (a != Ranks.NOT_YET) {
                lastArrival = Math.max(lastArrival, a);
                firstArrival = Math.min(firstArrival, a);
            }
        }
        // A participant that arrived a whole timeout after another (a thread starved of CPU on a loaded machine)
        // makes a timeout the documented outcome: the deadline counts from each task's own arrival.
        long spread = firstArrival == Long.MAX_VALUE ? 0 : lastArrival - firstArrival;
        boolean lateArrival = spread > TIMEOUT.toNanos() - 1_000_000_000L;
        for (Ranks.Result r : results) {
            if (!expected.contains(r.code()) && !(lateArrival && r.code() == ExitCodes.TIMEOUT)) {
                wrong++;
                why.append(" rank ")
                        .append(r.rank())
                        .append(" code ")
                        .append(r.code())
                        .append(" (arrivals spread ")
                        .append(spread / 1_000_000)
                        .append(" ms) via ")
                        .append(r.via())
                        .append(" (")
                        .append(r.failure() == null ? "released" : r.failure().getMessage())
                        .append(")");
            }
            if (r.code() == 0 && r.doneNanos() < lastArrival) {
                early++;
                why.append(" rank ")
                        .append(r.rank())
                        .append(" released ")
                        .append((lastArrival - r.doneNanos()) / 1000)
                        .append(" us before the last arrival");
            }
        }
        if (early + hung + wrong + starved > 0) {
            long[] stalls = SoakTrace.Stalls.within(started, System.nanoTime());
            why.append(" [a thread of this JVM waited up to ")
                    .append(stalls[0])
                    .append(" ms for a CPU during the barrier, ")
                    .append(stalls[1])
                    .append(" ms in all]");
        }
        return new Soak.Verdict(
                false, fault, early, hung, wrong, (System.nanoTime() - started) / 1_000_000, why.toString(), starved);
    }

    /** What a finished participant returned; null (and why) when it threw something other than muster's failure. */
    private static Ranks.Result result(CompletableFuture<Ranks.Result> f, StringBuilder why)
            throws InterruptedException {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof dev.muster.core.MusterException m) {
                // failed before it could arrive (prepare): a result with the failure's code
                return new Ranks.Result(-1, null, m, Long.MIN_VALUE, System.nanoTime(), "none", null, null);
            }
            why.append(" participant threw ").append(e.getCause());
            return null;
        }
    }
}
