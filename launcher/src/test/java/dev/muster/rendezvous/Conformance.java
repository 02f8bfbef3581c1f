package dev.muster.rendezvous;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shared test helpers: the hpc-compose conformance fixtures (copied into test resources, so the tests own them)
 * and the batch-script reader's line rule.
 */
public final class Conformance {
    public static final String DIR = "/conformance/hpc-compose/";
    public static final String RUST_101 = "rust-writer_model_101-server.json";
    public static final String RUST_42 = "rust-cli-writer_model-server_42-manual.json";
    public static final String BASH_12345 = "bash-provider-writer_model-server_12345-model.json";
    public static final String REGISTER_OUTPUT = "rust-cli-register-output.json";

    private Conformance() {}

    public static String fixture(String name) {
        try (InputStream in = Conformance.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + DIR + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The shared conformance directory the fixtures were copied from, when this checkout can see it:
     * {@code -Dmuster.conformance=DIR}, else the first {@code shared/conformance/hpc-compose} beside the module or
     * one of its ancestors (CI's clone has the shared directory beside it as {@code ../shared}; a git worktree may
     * sit deeper under the same parent).
     */
    public static Path sharedDir() {
        String prop = System.getProperty("muster.conformance");
        if (prop != null) {
            return Files.isDirectory(Path.of(prop)) ? Path.of(prop) : null;
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("shared/conformance/hpc-compose");
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        return null;
    }

    private static final Pattern LINE = Pattern.compile("^ *\"([A-Za-z_]+)\": (\"([^\"]*)\"|([0-9]+)),$");

    /**
     * hpc-compose's batch-script client reads latest.json line by line: a field is found only on a line
     * {@code <spaces>"field": "string",} or {@code <spaces>"field": 123,}, the first such line wins, and nothing
     * is unescaped.
     */
    public static Map<String, String> lineReader(String text) {
        Map<String, String> found = new LinkedHashMap<>();
        for (String line : text.split("\n", -1)) {
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                found.putIfAbsent(m.group(1), m.group(3) != null ? m.group(3) : m.group(4));
            }
        }
        return found;
    }

    /** A fixture with {@code registered_at} replaced, e.g. by now, for tests that use the wall clock. */
    public static String withRegisteredAt(String fixture, long seconds) {
        return fixture.replaceFirst("\"registered_at\": [0-9]+", "\"registered_at\": " + seconds);
    }
}
