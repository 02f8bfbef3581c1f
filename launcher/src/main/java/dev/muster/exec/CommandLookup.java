package dev.muster.exec;

import dev.muster.core.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Finds the program as execvp would, before the barrier: a command that cannot start must abort the step at once
 * instead of letting every other task wait for it.
 */
public final class CommandLookup {
    /** A found program ({@code code == 0}), or why not: 127 not found, 126 not executable. */
    public record Result(Path path, int code, String problem) {
        public boolean ok() {
            return code == 0;
        }
    }

    private CommandLookup() {}

    public static Result find(String command, Map<String, String> env) {
        if (command.isEmpty()) {
            return new Result(null, ExitCodes.NOT_FOUND, "the command is an empty string");
        }
        if (command.indexOf('/') >= 0) {
            return check(Path.of(command).toAbsolutePath(), command);
        }
        String path = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        Result notExecutable = null;
        for (String dir : path.split(":", -1)) {
            Path candidate = (dir.isEmpty() ? Path.of("") : Path.of(dir))
                    .resolve(command)
                    .toAbsolutePath();
            if (Files.exists(candidate)) {
                Result r = check(candidate, command);
                if (r.ok()) {
                    return r;
                }
                if (notExecutable == null) {
                    notExecutable = r;
                }
            }
        }
        if (notExecutable != null) {
            return notExecutable;
        }
        return new Result(
                null,
                ExitCodes.NOT_FOUND,
                "command not found: " + command + " (not in PATH); check the name, or give its path");
    }

    private static Result check(Path p, String command) {
        if (!Files.exists(p)) {
            return new Result(null, ExitCodes.NOT_FOUND, "command not found: " + command + " (no such file " + p + ")");
        }
        if (Files.isDirectory(p)) {
            return new Result(null, ExitCodes.NOT_EXECUTABLE, "command " + command + " is a directory: " + p);
        }
        if (!Files.isExecutable(p)) {
            return new Result(
                    null,
                    ExitCodes.NOT_EXECUTABLE,
                    "command " + command + " is not executable: " + p + "; chmod +x it");
        }
        return new Result(p, 0, "");
    }
}
