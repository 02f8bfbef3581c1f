package dev.muster.barrier;

import dev.muster.core.Backoff;
import dev.muster.core.Clock;
import dev.muster.core.Log;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Removes a step directory once every task has departed, without delaying any program: rank 0 starts it at its
 * arrival, off the release path, and after a true exec no muster code runs in any task, so the helper is a small
 * detached shell loop, not a thread. It waits for the release in the outcome file, then for all departures, and
 * renames the directory away before deleting it so that a straggler never reads a half-deleted tree. Bounded: it
 * gives up after {@code bound} (or at once when the step directory is gone) and leaves the directory to
 * {@code muster sweep}, as it does after an abort or a timeout (the files are the diagnosis).
 */
public final class Cleanup {
    private Cleanup() {}

    // $1 step dir, $2 task count, $3 bound in seconds. Backs off from 50 ms to 1 s. The names and the outcome's
    // syntax come from StepFiles and Outcome, so that the loop cannot drift from the protocol.
    static final String SCRIPT = ""
            + "d=$1; n=$2; end=$(( $(date +%s) + $3 )); s=0.05\n"
            + "pause() { sleep \"$s\"; case $s in 0.05) s=0.1;; 0.1) s=0.2;; 0.2) s=0.5;; *) s=1;; esac; }\n"
            + "until grep -q '^" + Outcome.KIND + "=" + Outcome.Kind.RELEASE.word() + "$' \"$d/" + StepFiles.OUTCOME
            + "\" 2>/dev/null; do\n"
            + "  [ -d \"$d\" ] || exit 0\n"
            // decided, but maybe as the release after the look above: a decided outcome never changes, so one more
            // look tells an abort or a timeout (left to sweep) from it
            + "  grep -q '^" + Outcome.KIND + "=' \"$d/" + StepFiles.OUTCOME + "\" 2>/dev/null && ! grep -q '^"
            + Outcome.KIND + "=" + Outcome.Kind.RELEASE.word() + "$' \"$d/" + StepFiles.OUTCOME
            + "\" 2>/dev/null && exit 0\n"
            + "  [ \"$(date +%s)\" -lt \"$end\" ] || exit 0; pause\n"
            + "done\n"
            + "s=0.05\n"
            + "until [ \"$(ls \"$d/" + StepFiles.DEPARTURE
            + "\" 2>/dev/null | grep -c '^[0-9][0-9]*$')\" -ge \"$n\" ]; do\n"
            + "  [ -d \"$d\" ] || exit 0\n"
            + "  [ \"$(date +%s)\" -lt \"$end\" ] || exit 0; pause\n"
            + "done\n"
            + "g=\"$d" + StepFiles.GONE + "$$\"\n"
            + "mv -T -- \"$d\" \"$g\" 2>/dev/null && rm -rf -- \"$g\"\n";

    /**
     * Clean-up inside this JVM, for a process that lives on after the release (the agent): waits on the calling
     * thread for every departure, with backoff, then renames the step directory away and deletes it. Gives up at
     * {@code bound}, leaving the directory to sweep, as the shell helper does.
     */
    public static void inProcess(Path stepDir, int size, Duration bound) {
        long end = System.nanoTime() + bound.toNanos();
        Backoff backoff = new Backoff(50_000_000L, 1_000_000_000L, 2, 1, 1, null); // no jitter: one per step
        Path departures = stepDir.resolve(StepFiles.DEPARTURE);
        try {
            while (StepFiles.countRanks(departures) < size) {
                if (System.nanoTime() > end) {
                    return;
                }
                Clock.SYSTEM.sleep(backoff.next());
            }
            Path gone = StepFiles.gone(stepDir, dev.muster.core.Posix.pid());
            java.nio.file.Files.move(stepDir, gone);
            Sweep.deleteTree(gone);
        } catch (IOException e) {
            Log.debug("clean-up of " + stepDir + " failed: " + e + "; muster sweep will remove it");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the detached helper for {@code stepDir}; failures only leave work for sweep. */
    public static void start(Path stepDir, int size, Duration bound) {
        long seconds = Math.max(10, bound.toSeconds() + 60);
        // The outer shell backgrounds the loop and exits at once, so the loop is re-parented away from the task:
        // the exec'd program never gets a child it did not start.
        ProcessBuilder pb = new ProcessBuilder(
                "/bin/sh",
                "-c",
                "(" + SCRIPT + ") </dev/null >/dev/null 2>&1 &",
                "muster-cleanup",
                stepDir.toString(),
                Integer.toString(size),
                Long.toString(seconds));
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        try {
            Process p = pb.start();
            p.waitFor();
        } catch (IOException e) {
            Log.debug("cannot start the clean-up helper: " + e + "; muster sweep will remove " + stepDir);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
