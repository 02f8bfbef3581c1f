package dev.muster.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The command line that started this JVM, up to the jar or main class, so that muster can start more of itself
 * the same way ({@code local}'s tasks, a provider's registrar): same java binary, same flags (start-up archive,
 * {@code -XX:-MaxFDLimit}, ...), same jar.
 */
final class JvmPrefix {
    private JvmPrefix() {}

    static List<String> of() {
        try {
            String raw = new String(Files.readAllBytes(Path.of("/proc/self/cmdline")), StandardCharsets.UTF_8);
            List<String> all = new ArrayList<>(Arrays.asList(raw.split("\0")));
            List<String> ours = Main.originalArgs();
            if (ours != null && all.size() > ours.size()) {
                return new ArrayList<>(all.subList(0, all.size() - ours.size()));
            }
        } catch (IOException e) {
            // below
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    }
}
