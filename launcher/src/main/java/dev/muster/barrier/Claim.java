package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * The one-writer rule of the outcome: whoever creates the {@code claim} hard link first (a private file linked to
 * it; {@code O_EXCL} is unreliable on old NFS) fills the pre-created outcome file with one write(); everybody else
 * reads the winner's outcome.
 */
final class Claim {
    /** Longest a task that lost the claim waits for the winner's outcome before it calls the directory corrupt. */
    private static final long WINNER_WAIT_NANOS = 10_000_000_000L;

    private final StepFiles files;
    private final int rank;
    private final Clock clock;
    private final Random random;
    private final PolledFile outcome;
    /** Set before the outcome is written, so that a reader that sees it also knows it is this task's. */
    private volatile boolean mine;

    Claim(StepFiles files, int rank, Clock clock, Random random, PolledFile outcome) {
        this.files = files;
        this.rank = rank;
        this.clock = clock;
        this.random = random;
        this.outcome = outcome;
    }

    /** Writes {@code o} if nobody has decided yet and returns it; else returns the outcome already decided. */
    Outcome decide(Outcome o) {
        byte[] bytes = o.encode();
        Path tmp = files.claimTemp(rank, Posix.pid(), random.nextLong());
        try {
            boolean won;
            Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            try {
                Files.createLink(files.claim(), tmp);
                won = true;
            } catch (FileAlreadyExistsException e) {
                won = false;
            } finally {
                Files.deleteIfExists(tmp);
            }
            if (won) {
                mine = true;
                StepFiles.fill(files.outcomeFile, bytes);
                return o;
            }
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write the outcome in " + files.dir + ": " + e);
        }
        return winners();
    }

    /** Whether this task won the claim. */
    boolean mine() {
        return mine;
    }

    /** Lost: the winner is writing the outcome right now. */
    private Outcome winners() {
        long until = clock.nanoTime() + WINNER_WAIT_NANOS;
        while (true) {
            Outcome existing = outcome.outcome();
            if (existing != null) {
                return existing;
            }
            if (clock.nanoTime() > until) {
                throw MusterException.corrupt("step directory " + files.dir + " has a claim but no outcome after "
                        + "10 s; its writer died: remove the directory (muster sweep)");
            }
            try {
                clock.sleep(1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw MusterException.internal("interrupted", e);
            }
        }
    }
}
