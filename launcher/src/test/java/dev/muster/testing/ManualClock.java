package dev.muster.testing;

import dev.muster.core.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The tests' one clock: it moves only when slept on or advanced, records every sleep, and runs what was scheduled
 * ({@link #at}) for the moments that time passes, so that code that waits is tested without waiting. Not
 * thread-safe: the code under test and its scheduled actions run on the test's thread.
 */
public final class ManualClock implements Clock {
    private static final long START_NANOS = 1_000_000_000L;
    private static final long DEFAULT_EPOCH_MILLIS = 1_800_000_000_000L;

    private long nanos = START_NANOS;
    private final long epochMillis;
    private final List<Long> sleeps = new ArrayList<>();
    private final TreeMap<Long, List<Runnable>> at = new TreeMap<>();

    public ManualClock() {
        this(DEFAULT_EPOCH_MILLIS);
    }

    private ManualClock(long epochMillis) {
        this.epochMillis = epochMillis;
    }

    /** A clock whose wall time starts at {@code seconds} since the epoch. */
    public static ManualClock atEpochSeconds(long seconds) {
        return new ManualClock(seconds * 1000);
    }

    /** Runs {@code r} when time reaches {@code millisFromStart} after this clock's start. */
    public void at(long millisFromStart, Runnable r) {
        at.computeIfAbsent(START_NANOS + millisFromStart * 1_000_000L, k -> new ArrayList<>())
                .add(r);
    }

    /** The wall time this clock started at, in milliseconds since the epoch. */
    public long epochMillis() {
        return epochMillis;
    }

    public long elapsedMillis() {
        return (nanos - START_NANOS) / 1_000_000L;
    }

    /** Every sleep asked of this clock, in nanoseconds, in order. */
    public List<Long> sleeps() {
        return sleeps;
    }

    /** Moves time on without a sleep, running what falls due. */
    public void advance(Duration d) {
        moveTo(nanos + d.toNanos());
    }

    public void advanceSeconds(long s) {
        advance(Duration.ofSeconds(s));
    }

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public long millis() {
        return epochMillis + elapsedMillis();
    }

    @Override
    public void sleep(long n) {
        sleeps.add(n);
        moveTo(nanos + n);
    }

    private void moveTo(long t) {
        nanos = t;
        while (!at.isEmpty() && at.firstKey() <= nanos) {
            at.pollFirstEntry().getValue().forEach(Runnable::run);
        }
    }

    /** This clock's time, but every sleep on it is interrupted: for the code's handling of an interrupted wait. */
    public Clock interruptingSleep() {
        ManualClock time = this;
        return new Clock() {
            @Override
            public long nanoTime() {
                return time.nanoTime();
            }

            @Override
            public long millis() {
                return time.millis();
            }

            @Override
            public void sleep(long nanos) throws InterruptedException {
                throw new InterruptedException();
            }
        };
    }
}
