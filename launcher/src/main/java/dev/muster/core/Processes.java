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
