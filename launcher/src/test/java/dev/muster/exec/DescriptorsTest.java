package dev.muster.exec;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which descriptors count as the task's own (open when main started) and which muster opened since. */
class DescriptorsTest {
    @TempDir
    Path tmp;

    /** The descriptor of this process that has {@code file} open. */
    private static int fdOf(Path file) throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    if (Files.readSymbolicLink(p).equals(file)) {
                        return Integer.parseInt(p.getFileName().toString());
                    }
                } catch (IOException e) {
                    // the listing's own descriptor, gone already
                }
            }
        }
        throw new AssertionError(file + " is not open");
    }

    @Test
    void openedBeforeNoting_isInherited_openedAfter_isNot_andStdioNeverCounts() throws IOException {
        Path before = Files.writeString(tmp.resolve("before"), "x");
        Path after = Files.writeString(tmp.resolve("after"), "x");
        try (FileChannel b = FileChannel.open(before, StandardOpenOption.READ)) {
            Descriptors.noteInherited();
            try (FileChannel a = FileChannel.open(after, StandardOpenOption.READ)) {
                assertTrue(a.isOpen() && b.isOpen());
                int fa = fdOf(after);
                assertTrue(Descriptors.notInherited().contains(fa), "opened after main started");
                assertFalse(Descriptors.notInherited().contains(fdOf(before)), "the task's own");
                assertTrue(Descriptors.notInherited().stream().allMatch(fd -> fd > 2));
            }
        }
    }

    @Test
    void theJvmsOwnFiles_areNotTheTasks() throws IOException {
        Path jar = Path.of(System.getProperty("java.home"), "lib", "modules").toRealPath();
        Descriptors.noteInherited();
        // lib/modules is open in every JVM since start-up: noted as the JVM's, so marked close-on-exec
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    if (Files.readSymbolicLink(p).equals(jar)) {
                        int fd = Integer.parseInt(p.getFileName().toString());
                        assertTrue(Descriptors.notInherited().contains(fd), "lib/modules on " + fd);
                        return;
                    }
                } catch (IOException e) {
                    // gone
                }
            }
        }
        throw new AssertionError("lib/modules is not open in this JVM");
    }
}
