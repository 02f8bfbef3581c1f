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
import java.util.concurrent.TimeoutException;
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
    private static final long HUNG_MARGIN_MS = 10_000;

    private SoakInProcess() {}

    /** Runs one barrier; returns what it found. {@code fullRoot} null: the full-directory fault is skipped. */
    static Soak.Verdict run(
            Soak.Fault fault, int size, boolean tcp, Path root, Path fullRoot, String key, Random random)
            throws Exception {
        Transport.Mode mode = tcp && fault != Soak.Fault.KILL_AFTER && fault != Soak.Fault.FULL_DIR
                ? Transport.Mode.TCP
                : Transport.Mode.FILE;
        Ranks ranks = new Ranks(fault == Soak.Fault.FULL_DIR ? fullRoot : root, key, size, mode, TIMEOUT);
        int victim = random.nextInt(size);
        int other = (victim + 1 + random.nextInt(size - 1)) % size;
        List<CompletableFuture<Ranks.Result>> runs = new ArrayList<>();
        List<Long> arrivals = new ArrayList<>(); // arrivals that did not come back as results
        Set<Integer> expected = Set.of(0);
        long started = System.nanoTime();
        try {
            switch (fault) {
                case NONE, FULL_DIR -> {
                    expected = Set.of(fault == Soak.Fault.FULL_DIR ? ExitCodes.UNUSABLE_DIR : 0);
                    startAll(ranks, size, -1, runs);
                }
                case SLOW -> {
                    startAll(ranks, size, victim, runs);
                    LockSupport.parkNanos(random.nextLong(TIMEOUT.toNanos() / 2));
                    runs.add(ranks.start(victim));
                }
                case KILL_BEFORE -> {
                    expected = Set.of(ExitCodes.TIMEOUT);
                    startAll(ranks, size, victim, runs);
                }
                case KILL_AFTER -> {
                    expected = Set.of(victim == 0 ? ExitCodes.TIMEOUT : 0);
                    LockSupport.parkNanos(random.nextLong(50_000_000L));
                    FileBarrier fb = ranks.barrier(victim);
                    fb.prepare();
                    arrivals.add(System.nanoTime());
                    fb.arrive(); // and is killed: no await, no departure
                    startAll(ranks, size, victim, runs);
                }
                case TERM_WAITING -> {
                    // the other participant is held back, so the release cannot come before the signal
                    expected = Set.of(128 + 15);
                    startAll(ranks, size, other, runs, victim);
                    FileBarrier fb = ranks.barrier(victim);
                    fb.prepare();
                    arrivals.add(System.nanoTime());
                    fb.arrive();
                    LockSupport.parkNanos(random.nextLong(100_000_000L));
                    fb.abort(128 + 15, "rank " + victim + " was stopped by SIGTERM while waiting");
                    runs.add(ranks.start(other));
                }
                case FOREIGN_FILE -> {
                    ranks.barrier(0).prepare();
                    dropForeignFiles(ranks.barrier(0).dir(), size, random);
                    startAll(ranks, size, -1, runs);
                }
                case STALE_DIR -> {
                    // refused as a leftover (65) by every participant, never released out of the old directory
                    expected = Set.of(ExitCodes.CORRUPT);
                    leaveStaleStep(ranks, size, random);
                    // one participant late, so that a release out of the stale directory would show as early
                    startAll(ranks, size, victim, runs);
                    LockSupport.parkNanos(50_000_000L + random.nextLong(150_000_000L));
                    runs.add(ranks.start(victim));
                }
            }
            return judge(fault, runs, arrivals, expected, started);
        } finally {
            ranks.close();
        }
    }

    private static void startAll(
            Ranks ranks, int size, int except, List<CompletableFuture<Ranks.Result>> runs, int... alsoExcept) {
        for (int r = 0; r < size; r++) {
            if (r != except && (alsoExcept.length == 0 || r != alsoExcept[0])) {
                runs.add(ranks.start(r));
            }
        }
    }

    private static void startAll(Ranks ranks, int size, int except, List<CompletableFuture<Ranks.Result>> runs) {
        startAll(ranks, size, except, runs, new int[0]);
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
                f.get(TIMEOUT.toMillis() + HUNG_MARGIN_MS, TimeUnit.MILLISECONDS);
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

    private static Soak.Verdict judge(
            Soak.Fault fault,
            List<CompletableFuture<Ranks.Result>> runs,
            List<Long> arrivals,
            Set<Integer> expected,
            long started)
            throws InterruptedException {
        int hung = 0;
        int wrong = 0;
        int early = 0;
        List<Ranks.Result> results = new ArrayList<>();
        StringBuilder why = new StringBuilder();
        for (CompletableFuture<Ranks.Result> f : runs) {
            try {
                results.add(f.get(TIMEOUT.toMillis() + HUNG_MARGIN_MS, TimeUnit.MILLISECONDS));
            } catch (TimeoutException e) {
                hung++;
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof dev.muster.core.MusterException m) {
                    // failed before it could arrive (prepare): a result with the failure's code
                    results.add(new Ranks.Result(-1, null, m, Long.MIN_VALUE, System.nanoTime(), "none", null, null));
                } else {
                    wrong++;
                    why.append(" participant threw ").append(e.getCause());
                }
            }
        }
        long lastArrival = arrivals.stream().mapToLong(Long::longValue).max().orElse(Long.MIN_VALUE);
        for (Ranks.Result r : results) {
            lastArrival = Math.max(lastArrival, r.arrivedNanos());
        }
        // A participant that arrived a whole timeout after another (a thread starved of CPU on a loaded machine)
        // makes a timeout the documented outcome: the deadline counts from each task's own arrival.
        long firstArrival = Long.MAX_VALUE;
        for (Ranks.Result r : results) {
            if (r.arrivedNanos() != Long.MIN_VALUE) {
                firstArrival = Math.min(firstArrival, r.arrivedNanos());
            }
        }
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
        return new Soak.Verdict(
                false, fault, early, hung, wrong, (System.nanoTime() - started) / 1_000_000, why.toString());
    }
}
