package dev.muster.testing;

import dev.muster.core.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock only the test moves, from any thread, for code that waits on a thread of its own (a rank's loop over real
 * sockets); {@link ManualClock} is the single-threaded one. Its time moves only when the test advances it, starting
 * far from zero as {@link System#nanoTime} does; its reads are counted, so a test can tell that a loop went round at
 * the new time. A sleep on it is recorded, first runs the hooks in {@link #onSleep}, and lasts at most the cap of
 * real time, so that a loop that sleeps still yields without waiting out its pauses.
 */
public final class HeldClock implements Clock {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000_000L);
    private final AtomicLong reads = new AtomicLong();
    private final long capNanos;
    /** Run at every sleep, before it. */
    public final List<Runnable> onSleep = new CopyOnWriteArrayList<>();
    /** Every sleep asked for, in nanoseconds. */
    public final List<Long> sleeps = new CopyOnWriteArrayList<>();

    /** Sleeps last at most 2 ms of real time. */
    public HeldClock() {
        this(Duration.ofMillis(2));
    }

    /** Sleeps last at most {@code realSleepCap} of real time. */
    public HeldClock(Duration realSleepCap) {
        this.capNanos = realSleepCap.toNanos();
    }

    @Override
    public long nanoTime() {
        reads.incrementAndGet();
        return nanos.get();
    }

    @Override
    public long millis() {
        return System.currentTimeMillis();
    }

    @Override
    public void sleep(long n) throws InterruptedException {
        sleeps.add(n);
        onSleep.forEach(Runnable::run);
        Clock.SYSTEM.sleep(Math.min(n, capNanos));
    }

    /** The time now, without counting a read. */
    public long now() {
        return nanos.get();
    }

    public void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    /** Sets the time (forwards only, as a clock goes). */
    public void set(long toNanos) {
        nanos.accumulateAndGet(toNanos, Math::max);
    }

    /** How many times the code under test has read the time. */
    public long reads() {
        return reads.get();
    }
}
