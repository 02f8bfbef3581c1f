package dev.muster.core;

import java.util.Random;

/**
 * The one pause rule of every polling loop in muster: a step b that grows by {@code factor} after each pause, up
 * to {@code ceiling}, and a pause drawn uniformly from [low·b, high·b). The jitter keeps thousands of tasks
 * started together from polling a file server in step.
 */
public final class Backoff {
    private long ceiling;
    private final double factor;
    private final double low;
    private final double spread;
    private final Random random;
    private long step;
    private boolean started;

    /**
     * @param first   the first step, in nanoseconds (clamped to {@code ceiling})
     * @param ceiling the largest step, in nanoseconds
     * @param factor  growth of the step after each pause (1: a steady interval)
     * @param low     the shortest pause, as a fraction of the step
     * @param high    the longest pause, as a fraction of the step (equal to {@code low}: no jitter)
     * @param random  the jitter's source; null for none
     */
    public Backoff(long first, long ceiling, double factor, double low, double high, Random random) {
        this.ceiling = ceiling;
        this.factor = factor;
        this.low = low;
        this.spread = high - low;
        this.random = random;
        this.step = Math.min(first, ceiling);
    }

    /** Pauses in [b/2, b), b starting at 1 ms (or the ceiling if lower) and doubling: the barrier's polls. */
    public static Backoff polls(long ceiling, Random random) {
        return new Backoff(1_000_000L, ceiling, 2, 0.5, 1, random);
    }

    /** A steady {@code interval} made up to a fifth longer at random: polls that need no growth. */
    public static Backoff steady(long interval, Random random) {
        return new Backoff(interval, interval, 1, 1, 1.2, random);
    }

    /** Changes the ceiling from the next step on (a loop that polls faster at first). */
    public void limit(long newCeiling) {
        ceiling = newCeiling;
    }

    /** The next pause in nanoseconds (at least 1): the first step, then each step grown from the one before. */
    public long next() {
        if (started) {
            step = Math.min((long) (step * factor), ceiling);
        }
        started = true;
        long b = step;
        double r = random == null || spread == 0 ? 0 : random.nextDouble();
        return Math.max(1, (long) (b * low) + (long) (r * b * spread));
    }

    /** The next pause, cut to {@code left} nanoseconds (what remains before a deadline), at least 1. */
    public long next(long left) {
        return Math.max(1, Math.min(next(), left));
    }
}
