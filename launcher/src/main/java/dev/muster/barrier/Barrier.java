package dev.muster.barrier;

import java.util.Map;

/**
 * One task's side of a step barrier, however the tasks learn the outcome: the file protocol
 * ({@link FileBarrier}), the TCP release on top of it ({@link TcpBarrier}), or the Sarus-style benchmark
 * baseline ({@link SarusBaseline}). {@link StepSync} drives it: prepare, arrive, await, then depart; abort at
 * any time before the outcome (from a signal handler, too).
 */
public interface Barrier {
    /** Creates what the step needs before this task arrives (step directory, rank 0's listener). */
    void prepare();

    /** Marks this task as arrived; its deadline starts now. */
    void arrive();

    /**
     * Waits until the outcome is decided. Returns the release; throws the abort or timeout as a
     * {@link dev.muster.core.MusterException} with the code every task of the step exits with.
     *
     * @param releaseData what rank 0 hands to every task in the release ({@link Release}; ignored elsewhere)
     */
    Outcome await(Map<String, String> releaseData) throws InterruptedException;

    /** Aborts the step: the first outcome wins; every waiting task exits with {@code code}. */
    void abort(int code, String reason);

    /** After the release: tells the clean-up this task no longer needs the step directory. */
    void depart();

    /** Whether rank 0 removes the step directory once everybody departed (the baseline cleans up its own way). */
    default boolean cleanedUp() {
        return true;
    }
}
