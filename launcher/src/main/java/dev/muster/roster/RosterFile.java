package dev.muster.roster;

import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The file {@code MUSTER_ROSTER} names: a node-local copy of the roster, one per task, alive as long as the task's
 * process (the program, after the exec, keeps the PID). Its name carries that PID; a small detached shell loop
 * removes it once the PID is gone, and every task that writes one first removes those whose PID is no longer alive
 * on this node (the loop dies with the step where Slurm kills the step's whole cgroup).
 */
public final class RosterFile {
    private RosterFile() {}

    /** {@code $TMPDIR/muster-<uid>/roster}, made 0700. */
    static Path dir(Map<String, String> env) {
        return dev.muster.barrier.Roster.nodeDir(env);
    }

    /** Writes the copy for {@code key}/{@code rank}, starts its remover, returns its path. */
    public static Path write(Map<String, String> env, String key, int rank, byte[] json) {
        Path d = dir(env);
        long pid = Posix.pid();
        Path file = d.resolve(key.replaceAll("[^A-Za-z0-9_.-]", "_") + "." + rank + "." + pid + ".json");
        try {
            Files.createDirectories(
                    d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path tmp = d.resolve("." + file.getFileName() + ".tmp");
            dev.muster.core.SharedFiles.writeReplacing(tmp, file, json);
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write the roster file in " + d + ": " + e
                    + "; set TMPDIR to a writable node-local directory");
        }
        startRemover(file, pid);
        return file;
    }

    /**
     * Removes this node's roster files whose process is gone (the PID is the name's last part before .json): the
     * copies of killed tasks and the node files of the per-node fan-out. Run when a roster task starts and by
     * {@code muster sweep}; returns what it removed (or, with {@code dryRun}, would remove).
     */
    public static java.util.List<Path> sweep(Map<String, String> env, boolean dryRun) {
        return sweepDead(dir(env), dryRun);
    }

    static java.util.List<Path> sweepDead(Path d, boolean dryRun) {
        java.util.List<Path> removed = new java.util.ArrayList<>();
        if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
            return removed;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d, "*.json")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                String[] parts = n.substring(0, n.length() - 5).split("\\.");
                try {
                    long pid = Long.parseLong(parts[parts.length - 1]);
                    if (!Files.exists(Path.of("/proc", Long.toString(pid))) && (dryRun || Files.deleteIfExists(p))) {
                        removed.add(p);
                    }
                } catch (NumberFormatException e) {
                    // not ours
                } catch (IOException e) {
                    Log.debug("sweeping " + p + ": " + e);
                }
            }
        } catch (IOException e) {
            Log.debug("sweeping " + d + ": " + e);
        }
        return removed;
    }

    private static void startRemover(Path file, long pid) {
        String script = "while kill -0 \"$1\" 2>/dev/null; do sleep 2; done; rm -f -- \"$2\"";
        ProcessBuilder pb = new ProcessBuilder(
                "/bin/sh",
                "-c",
                "(" + script + ") </dev/null >/dev/null 2>&1 &",
                "muster-roster",
                Long.toString(pid),
                file.toString());
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        try {
            pb.start().waitFor();
        } catch (IOException e) {
            Log.debug("cannot start the roster file's remover: " + e + " (the next task on this node removes it)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
