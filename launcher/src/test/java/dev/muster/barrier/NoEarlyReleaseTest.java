package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Clock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * No early release, ever: 1,000 back-to-back barriers of 8 participants on a real directory, each participant a
 * thread with its own {@link FileBarrier}, arriving after a random 0–3 ms. Every participant's release must come
 * after the latest arrival. An arrival is stamped just before the participant makes its arrival file, so a
 * release stamped earlier than it can only be a release before that file existed.
 */
class NoEarlyReleaseTest {
    /**
     * Under mutation testing (scripts/mutation sets muster.mutation) every mutant the barrier code gets runs this
     * test: 50 barriers still show an early release, and keep a package's run within minutes on 2 cores.
     */
    private static final int BARRIERS = Boolean.getBoolean("muster.mutation") ? 50 : 1000;

    private static final int PARTICIPANTS = 8;
    private static final BarrierSettings FAST = new BarrierSettings(
            Duration.ofSeconds(20), Duration.ofMillis(2), Duration.ofMillis(1), Duration.ofHours(1));

    @TempDir
    Path root;

    @Test
    @Timeout(120)
    void thousandBarriersOfEight_releaseNeverBeforeTheLastArrival() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(PARTICIPANTS);
        long worstLatencyNanos = 0;
        long started = System.nanoTime();
        try {
            for (int b = 0; b < BARRIERS; b++) {
                String key = "step." + b;
                List<Future<long[]>> runs = new ArrayList<>();
                for (int rank = 0; rank < PARTICIPANTS; rank++) {
                    int r = rank;
                    runs.add(pool.submit(() -> participate(key, r)));
                }
                long lastArrival = Long.MIN_VALUE;
                long[][] stamps = new long[PARTICIPANTS][];
                for (int rank = 0; rank < PARTICIPANTS; rank++) {
                    stamps[rank] = runs.get(rank).get(30, TimeUnit.SECONDS);
                    lastArrival = Math.max(lastArrival, stamps[rank][0]);
                }
                for (int rank = 0; rank < PARTICIPANTS; rank++) {
                    long release = stamps[rank][1];
                    assertTrue(
                            release >= lastArrival,
                            "barrier " + b + ": rank " + rank + " released " + (lastArrival - release) / 1000
                                    + " µs before the last arrival");
                    worstLatencyNanos = Math.max(worstLatencyNanos, release - lastArrival);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf(
                "NoEarlyReleaseTest: %d barriers of %d in %d ms, worst last-arrival-to-release %.1f ms%n",
                BARRIERS, PARTICIPANTS, (System.nanoTime() - started) / 1_000_000, worstLatencyNanos / 1e6);
    }

    /** One participant: returns {arrival, release} in System.nanoTime(). */
    private long[] participate(String key, int rank) throws InterruptedException {
        FileBarrier barrier = new FileBarrier(
                root,
                key,
                rank,
                PARTICIPANTS,
                "n" + rank,
                FAST,
                Clock.SYSTEM,
                new Random(ThreadLocalRandom.current().nextLong()),
                null);
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(3_000_001));
        barrier.prepare();
        long arrival = System.nanoTime();
        barrier.arrive();
        Outcome o = barrier.await(java.util.Map.of());
        long release = System.nanoTime();
        assertEquals(Outcome.Kind.RELEASE, o.kind(), "rank " + rank + " of " + key);
        barrier.depart();
        return new long[] {arrival, release};
    }
}
