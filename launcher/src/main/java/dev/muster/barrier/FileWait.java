package dev.muster.barrier;

import dev.muster.core.Backoff;
import dev.muster.core.Log;
import java.util.BitSet;
import java.util.Map;

/**
 * The wait loop of the file protocol (DESIGN §4) for one {@link FileBarrier}: every task polls the outcome file
 * with backoff and jitter; rank 0 also lists {@code arrival/}, releases once every task has arrived and times the
 * step out at its deadline; the others claim their own timeout at theirs.
 */
final class FileWait {
    private FileWait() {}

    static Outcome await(FileBarrier fb, Map<String, String> releaseData) throws InterruptedException {
        int rank = fb.rank();
        int size = fb.size();
        BarrierSettings settings = fb.settings();
        long deadline = fb.deadlineNanos();
        Backoff backoff = fb.backoff((rank == 0 ? settings.leaderPoll() : settings.pollMax()).toNanos());
        long nextProgress = fb.arrivedNanos() + settings.progress().toNanos() / 2;
        BitSet arrived = new BitSet(size);
        while (true) {
            Outcome o = fb.readOutcome();
            if (o != null) {
                return fb.finish(o);
            }
            long now = fb.clock().nanoTime();
            if (rank == 0) {
                fb.listArrivals(arrived); // arrival files never go away while the step waits: only new ones matter
                if (arrived.cardinality() == size) {
                    return fb.finish(
                            fb.decide(Outcome.release(0, fb.stepRoster().withRoster(releaseData, null, false, false))));
                }
                if (now >= deadline) {
                    return fb.finish(fb.decide(Outcome.timeout(0, fb.missing(arrived))));
                }
                if (now >= nextProgress) {
                    Log.info(arrived.cardinality() + "/" + size + " arrived, waiting for "
                            + FailureReport.ranks(fb.missing(arrived)) + " ("
                            + FailureReport.secondsLeft(deadline, now) + " s left)");
                    nextProgress = now + settings.progress().toNanos();
                }
            } else {
                if (now >= deadline) {
                    return fb.finish(fb.ownTimeout());
                }
                if (now >= nextProgress) {
                    Log.info("waiting for the release from rank 0 (" + FailureReport.secondsLeft(deadline, now)
                            + " s left)");
                    nextProgress = now + settings.progress().toNanos() * 3;
                }
            }
            fb.clock().sleep(backoff.next(deadline - now));
        }
    }
}
