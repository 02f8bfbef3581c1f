package dev.muster.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Whether a process is still there, asked in one place: by PID, and whether the kernel shows it as a zombie. */
public final class Processes {
    private Processes() {}

    /** True while a process with this PID runs (a zombie still counts: it has not been reaped). */
    public static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /**
     * The process's start time, field 22 of {@code /proc/PID/stat} (clock ticks since boot), which a later process
     * given the same PID does not share; empty when there is no such process or {@code /proc} cannot tell.
     */
    public static Optional<String> startTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return f.length > 19 && f[19].matches("[0-9]+") ? Optional.of(f[19]) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * True while the process that had this PID and start time ({@link #startTicks}) runs: a PID reused by a later
     * process does not count. Without {@code /proc} it falls back to {@link #alive}.
     */
    public static boolean alive(long pid, String startTicks) {
        if (!Files.isDirectory(Path.of("/proc/self"))) {
            return alive(pid);
        }
        return startTicks(pid).map(startTicks::equals).orElse(false);
    }

    /**
     * Whether the process is a zombie (state {@code Z} in {@code /proc/PID/stat}: exited, not yet reaped); empty
     * when {@code /proc} cannot tell. The state follows the command name's closing parenthesis, which may itself
     * hold spaces and parentheses.
     */
    public static Optional<Boolean> zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
            int close = stat.lastIndexOf(')');
            return Optional.of(close >= 0 && close + 2 < stat.length() && stat.charAt(close + 2) == 'Z');
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
