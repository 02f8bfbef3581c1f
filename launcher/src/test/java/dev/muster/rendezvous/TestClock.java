package dev.muster.rendezvous;

import dev.muster.core.Clock;

import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to; sleeping advances it, so waits finish at once. */
public final class TestClock implements Clock {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AtomicLong millis;

    public TestClock(long epochSeconds) {
        this.millis = new AtomicLong(epochSeconds * 1000);
    }

    public void advanceSeconds(long s) {
        nanos.addAndGet(s * 1_000_000_000L);
        millis.addAndGet(s * 1000);
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public long millis() {
        return millis.get();
    }

    @Override
    public void sleep(long n) {
        nanos.addAndGet(n);
        millis.addAndGet(n / 1_000_000);
    }
}
