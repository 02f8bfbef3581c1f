package dev.muster.core;

import java.util.Random;

/**
 * Exponential backoff with jitter, the one pause rule of every polling loop in muster: each pause lies in
 * [b/2, b) for the current step b, which then grows by {@code factor} up to {@code ceiling}. The jitter keeps
 * thousands of tasks started together from polling a file server in step.
 */
public final class Backoff {
    private final long ceiling;
    private final long factor;
    private final Random random;
    private long step;

    /**
     * @param first   the first step, in nanoseconds (clamped to {@code ceiling})
     * @param ceiling the largest step, in nanoseconds
     * @param factor  growth of the step after each pause
     * @param random  the jitter's source; null for none (every pause is the whole step)
     */
    public Backoff(long first, long ceiling, long factor, Random random) {
        this.ceiling = ceiling;
        this.factor = factor;
        this.random = random;
        this.step = Math.min(first, ceiling);
    }

    /** Starting at 1 ms (or the ceiling if lower), doubling: the barrier's polls. */
    public static Backoff polls(long ceiling, Random random) {
        return new Backoff(1_000_000L, ceiling, 2, random);
    }

    /** The next pause in nanoseconds (at least 1); the step then grows. */
    public long next() {
        long b = step;
        step = Math.min(b * factor, ceiling);
        long pause = random == null ? b : b / 2 + (long) (random.nextDouble() * (b / 2));
        return Math.max(1, pause);
    }

    /** The next pause, cut to {@code left} nanoseconds (what remains before a deadline), at least 1. */
    public long next(long left) {
        return Math.max(1, Math.min(next(), left));
    }
}
