package dev.muster.barrier;

import dev.muster.core.Log;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Removes what killed steps left under a sync root: step directories of jobs that are no longer running, or older
 * than {@code maxAge}, and the renamed-away remains of interrupted clean-ups. Never follows a link: a link in the
 * root is reported and left, a link inside a step directory is removed as a link.
 */
public final class Sweep {
    /** Decides from a step directory's name (its key) whether its job may still be running. */
    public interface Liveness extends Predicate<String> {}

    private Sweep() {}

    public record Result(List<Path> removed, List<Path> kept) {}

    public static Result sweep(Path root, Liveness alive, Duration maxAge, Instant now, boolean dryRun)
            throws IOException {
        List<Path> removed = new ArrayList<>();
        List<Path> kept = new ArrayList<>();
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return new Result(removed, kept);
        }
        SyncRoot.checkPrivateDir(root, "sync directory");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (Files.isSymbolicLink(p)) {
                    Log.warn("sweep: " + p + " is a symbolic link; left alone (muster never follows links there)");
                    kept.add(p);
                    continue;
                }
                if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    kept.add(p);
                    continue;
                }
                FileTime mtime = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
                boolean old = mtime.toInstant().plus(maxAge).isBefore(now);
                boolean leftover = name.contains(".gone.");
                if (leftover || old || !alive.test(name)) {
                    if (!dryRun) {
                        Path gone = leftover ? p : p.resolveSibling(name + ".gone.sweep" + dev.muster.core.Posix.pid());
                        if (!leftover) {
                            Files.move(p, gone);
                        }
                        deleteTree(gone);
                    }
                    removed.add(p);
                } else {
                    kept.add(p);
                }
            }
        }
        return new Result(removed, kept);
    }

    /** Deletes a tree without following links (a link is deleted, never its target). */
    public static void deleteTree(Path top) throws IOException {
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
