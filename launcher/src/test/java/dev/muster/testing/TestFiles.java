package dev.muster.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Directories of a test: private ones (0700), and their removal, read-only parts and links included. */
public final class TestFiles {
    private TestFiles() {}

    /** Creates {@code p} (and its parents) and makes it 0700. */
    public static Path privateDir(Path p) throws IOException {
        Files.createDirectories(p);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    /** Removes {@code top} and everything below it, never following a link. */
    public static void deleteTree(Path top) throws IOException {
        if (top == null || !Files.exists(top, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(top)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                if (!Files.isSymbolicLink(p)) {
                    p.toFile().setWritable(true, true);
                }
                Files.deleteIfExists(p);
            }
        }
    }
}
