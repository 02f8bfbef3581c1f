package dev.muster.barrier;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.SharedFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * Leftover detection: refuses a step directory that an earlier step with the same key left behind (a killed job
 * whose clean-up never ran, keys reused), so that nobody is released by its leftovers (docs/security.md).
 */
final class Leftover {
    /** How much older than the barrier timeout an untouched outcome file must be to count as a leftover. */
    static final Duration SLACK = Duration.ofSeconds(60);

    private Leftover() {}

    /**
     * Before this task has arrived, a release cannot exist, nor its own arrival file; and an outcome file still
     * empty long after the barrier timeout belongs to a step whose tasks are all gone (a live one would have
     * decided a timeout by then). The first task that notices aborts the step with 65 through {@code claim}, so
     * the others learn it at once. A leftover younger than the timeout cannot be told from a live step this task
     * is late for.
     */
    static void refuse(StepFiles files, int rank, Duration timeout, Claim claim) {
        String why = null;
        Outcome decided;
        try {
            byte[] b = readOnce(files, files.outcomeFile);
            decided = Outcome.decode(b, b.length, files.outcomeFile.toString());
        } catch (MusterException e) {
            decided = null; // damage is reported by the polls, with its own message
        }
        if (decided != null && decided.kind() == Outcome.Kind.RELEASE) {
            why = "the release of an earlier step";
        } else if (Files.exists(files.arrivalFile(rank), LinkOption.NOFOLLOW_LINKS)) {
            why = "an arrival of rank " + rank + " from before this task started";
        } else if (decided == null) {
            try {
                // the file's time is the file system's wall clock: compared with this machine's, not with the
                // injected clock, which tests wind at will
                long age = System.currentTimeMillis()
                        - Files.getLastModifiedTime(files.outcomeFile, LinkOption.NOFOLLOW_LINKS)
                                .toMillis();
                if (age > timeout.plus(SLACK).toMillis()) {
                    why = "an undecided step started " + age / 1000 + " s ago, longer than the timeout";
                }
            } catch (IOException e) {
                // gone meanwhile: nothing left over
            }
        }
        if (why == null) {
            return;
        }
        String message = "step directory " + files.dir + " holds " + why + " with the same key, left by a killed "
                + "job; remove it (muster sweep, or rm -r) and start the step again";
        if (decided == null) {
            claim.decide(Outcome.abort(rank, ExitCodes.CORRUPT, message));
        }
        throw MusterException.corrupt(message);
    }

    /** The whole of a small step file, read once (empty when missing). */
    private static byte[] readOnce(StepFiles files, Path file) {
        try (FileChannel ch = SharedFiles.openRegular(file)) {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(ch.size() + 1, StepFiles.MAX_OUTCOME));
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // small: one or two reads
            }
            return Arrays.copyOf(buf.array(), buf.position());
        } catch (SharedFiles.NotRegularFile e) {
            throw MusterException.corrupt(
                    "step file " + file + " is " + e.kind() + ", not a regular file; remove " + files.dir);
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
