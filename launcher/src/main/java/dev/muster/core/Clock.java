package dev.muster.core;

/** Time, injected wherever it decides behaviour, so that tests need no sleeps. */
public interface Clock {
    /** Monotonic nanoseconds, for deadlines and backoff. */
    long nanoTime();

    /** Wall-clock milliseconds since the epoch, for records and traces. */
    long millis();

    /** Sleeps for up to {@code nanos}; may return early. */
    void sleep(long nanos) throws InterruptedException;

    Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long millis() {
            return System.currentTimeMillis();
        }

        @Override
        public void sleep(long nanos) throws InterruptedException {
            if (nanos > 0) {
                Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
            }
        }
    };
}
