package dev.muster.barrier;

import dev.muster.core.Log;
import dev.muster.task.TaskIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/** The {@code --trace} line of one task: when it arrived, when it was released, and how it learned the outcome. */
final class StepTrace {
    private StepTrace() {}

    /** The trace line's fields before {@code arrive_us=}. */
    static String head(TaskIdentity id) {
        return "rank=" + id.rank() + " size=" + id.size() + " node=" + id.node() + " pid="
                + dev.muster.core.Posix.pid();
    }

    /** Appends this task's line to {@code trace}, if there is one; a failure is only a warning. */
    static void write(Path trace, TaskIdentity id, FileBarrier files) {
        if (trace == null) {
            return;
        }
        String line = head(id) + " arrive_us=" + micros(files.arrivedAt()) + " release_us=" + micros(files.releasedAt())
                + " via=" + files.via() + "\n";
        try {
            Files.write(
                    trace,
                    line.getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            Log.warn("cannot write trace file " + trace + ": " + e.getMessage());
        }
    }

    static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }
}
