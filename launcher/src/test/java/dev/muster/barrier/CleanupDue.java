package dev.muster.barrier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For test harnesses: whether a step's clean-up helper, once every task of the step has ended, is bound to remove
 * the step directory, read from the same files and words as its script ({@link Cleanup}). A harness waits for it
 * before it removes the test's directories, since the helper renames and deletes the step directory meanwhile.
 */
public final class CleanupDue {
    private CleanupDue() {}

    /** Whether {@code name} is a step directory's renamed copy, which the helper's last step removes. */
    public static boolean renamedAway(String name) {
        return name.contains(StepFiles.GONE);
    }

    /**
     * True when the helper of {@code stepDir} for {@code size} tasks is bound to remove it without further input:
     * the outcome is a release and every task has departed. Otherwise it leaves the directory alone: it exits at
     * once on an abort or a timeout (their files stay for diagnosis), or waits, by design, until its deadline for an
     * outcome or a departure that will not come, and exits when the directory is gone.
     */
    public static boolean due(Path stepDir, int size) {
        Path outcome = stepDir.resolve(StepFiles.OUTCOME);
        if (!Files.isRegularFile(outcome, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false; // none yet, or a hostile test's FIFO, which a read would block on
        }
        String kind = null;
        try {
            for (String line : Files.readString(outcome, StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith(Outcome.KIND + "=")) {
                    kind = line.substring(Outcome.KIND.length() + 1);
                }
            }
        } catch (IOException e) {
            return false;
        }
        if (!Outcome.Kind.RELEASE.word().equals(kind)) {
            return false;
        }
        try {
            return StepFiles.countRanks(stepDir.resolve(StepFiles.DEPARTURE)) >= size;
        } catch (IOException e) {
            return false;
        }
    }
}
