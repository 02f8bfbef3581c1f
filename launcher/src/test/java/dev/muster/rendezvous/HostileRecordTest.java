package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Records written by someone who can write the cache directory but is not the provider (issue: forged records). */
class HostileRecordTest {
    @TempDir
    Path tmp;

    @AfterEach
    void restoreLog() {
        Log.to(System.err);
    }

    private Store store() {
        return new Store(
                new CacheDir(tmp.toString(), Caller.self()), dev.muster.testing.ManualClock.atEpochSeconds(1_000));
    }

    private Path put(String dir, String text) throws IOException {
        Path d = tmp.resolve("rendezvous").resolve(dir);
        Files.createDirectories(d);
        return Files.writeString(d.resolve(Store.LATEST), text);
    }

    private String record(String name, String host) {
        return Record.create(name, "7", null, host, 8000, "http", null, 1_000, 60, tmp.toString(), Map.of())
                .toJson();
    }

    @Test
    void resolve_recordInXNamingY_isRefusedNotExportedAsY() throws IOException {
        store().register("y", "1", null, "real-y", 9000, "http", null, 600, Map.of());
        put("x", record("y", "attacker"));
        MusterException e = assertThrows(MusterException.class, () -> store().resolve("x"));
        assertEquals(ExitCodes.CORRUPT, e.status());
        assertTrue(e.getMessage().contains("names \"y\", not the name of its directory \"x\""), e.getMessage());
        assertEquals("real-y", store().resolve("y").orElseThrow().host(), "y itself is untouched");
        MusterException l = assertThrows(MusterException.class, () -> store().list());
        assertTrue(l.getMessage().contains("\"x\""), "list never shows two y lines: " + l.getMessage());
    }

    @Test
    void read_nameWithPathOrNewline_isRefusedAsCorrupt() throws IOException {
        for (String bad : List.of("../../etc", "a\nmuster[-] forged", "", "..", "a/b")) {
            String text = record("n", "h").replace("\"name\": \"n\"", "\"name\": " + dev.muster.json.Json.quote(bad));
            MusterException e = assertThrows(MusterException.class, () -> Record.parse(text, "f"), bad);
            assertEquals(ExitCodes.CORRUPT, e.status(), bad);
            assertTrue(e.getMessage().contains("is not a valid name"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "escaped: " + e.getMessage());
        }
    }

    @Test
    void errorLine_metadataKeyForgingASecondLine_staysOneEscapedLine() throws IOException {
        String key = "k\nmuster[-] error: forged\u001b[2J";
        put(
                "n",
                record("n", "h")
                        .replace("\"metadata\": {}", "\"metadata\": {" + dev.muster.json.Json.quote(key) + ": 1}"));
        String err = logOf(() -> store().resolve("n"));
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains("k\\nmuster[-] error: forged\\u001b[2J"), err);
        assertFalse(err.contains("\u001b"), err);
    }

    @Test
    void errorLine_60000DigitPort_isOneBoundedLine() throws IOException {
        put("n", record("n", "h").replace("\"port\": 8000", "\"port\": " + "9".repeat(60_000)));
        String err = logOf(() -> store().resolve("n"));
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.length() < 500, err.length() + " characters: " + err);
        assertTrue(err.contains("port is 9999"), err);
    }

    @Test
    void errorLine_1MBHostileRecord_isOneBoundedLine() throws IOException {
        put("big", "{\"name\": \"" + "\n\u001b".repeat(500_000) + "\"}");
        String big = logOf(() -> store().resolve("big"));
        assertEquals(1, big.lines().count(), big);
        assertTrue(big.length() < 500, big.length() + " characters");
        // under the size limit, a 60 KB hostile key: still one line, bounded by the quoting
        String key = "\u001b]0;title\u0007\n".repeat(4_000);
        put(
                "key",
                record("key", "h")
                        .replace("\"metadata\": {}", "\"metadata\": {" + dev.muster.json.Json.quote(key) + ": 1}"));
        String err = logOf(() -> store().resolve("key"));
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.length() < SafeText.VALUE_CHARS * 7 + 400, err.length() + " characters: " + err);
        assertFalse(err.contains("\u001b") || err.contains("\u0007"), err);
    }

    /** What Main would print for the failure of {@code r}: the error line through {@link Log}. */
    private static String logOf(Runnable r) {
        MusterException e = assertThrows(MusterException.class, r::run);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Log.to(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        Log.error(e.getMessage());
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
