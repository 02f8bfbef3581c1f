package dev.muster.barrier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The descriptors this JVM holds open, read from /proc/self/fd: what a poll or a write leaves open. */
final class Descriptors {
    private Descriptors() {}

    /**
     * How many descriptors point under {@code dir} (a real path): files in it, files once in it and since
     * replaced or deleted (Linux shows those as {@code <path> (deleted)}).
     */
    static int under(Path dir) throws IOException {
        String prefix = dir + "/";
        int n = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith(prefix)) {
                        n++;
                    }
                } catch (IOException e) {
                    // closed meanwhile (the listing's own descriptor)
                }
            }
        }
        return n;
    }
}
