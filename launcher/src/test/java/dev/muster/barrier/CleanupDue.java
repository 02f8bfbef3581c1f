package dev.muster.barrier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For test harnesses: whether a step's clean-up helper, once every task of the step has ended, is bound to exit by
 * itself within its longest poll, read from the same files and words as its script ({@link Cleanup}). A harness
 * waits for such a helper before it removes the test's directories, since the helper renames and deletes the
 * step directory at the same time.
 */
public final class CleanupDue {
    private CleanupDue() {}

    /**
     * Whether a process's command line is the helper's last step, the removal of its renamed step directory: the
     * shell runs it in place of itself ({@code exec}), so it no longer carries the helper's name.
     */
    public static boolean removing(String cmdline) {
        return cmdline.startsWith("rm\0") && cmdline.contains(StepFiles.GONE);
    }

    /**
     * True when the helper of {@code stepDir} for {@code size} tasks will finish without further input: the step
     * directory is gone (renamed away and being deleted, or removed by someone else), the outcome is not a
     * release (it exits), or it is a release and every task has departed (it removes the directory). False when it
     * waits, by design, until its deadline: no outcome, or a release some task never departed from.
     */
    public static boolean due(Path stepDir, int size) {
        if (!Files.isDirectory(stepDir)) {
            return true;
        }
        String kind = null;
        try {
            for (String line : Files.readString(stepDir.resolve(StepFiles.OUTCOME), StandardCharsets.UTF_8)
                    .split("\n")) {
                if (line.startsWith(Outcome.KIND + "=")) {
                    kind = line.substring(Outcome.KIND.length() + 1);
                }
            }
        } catch (IOException e) {
            return false;
        }
        if (kind == null) {
            return false;
        }
        if (!kind.equals(Outcome.Kind.RELEASE.word())) {
            return true;
        }
        try {
            return StepFiles.countRanks(stepDir.resolve(StepFiles.DEPARTURE)) >= size;
        } catch (IOException e) {
            return false;
        }
    }
}
