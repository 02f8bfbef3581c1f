package dev.muster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.json.Json;
import dev.muster.rendezvous.Record;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rendezvous commands against records written by someone who can write the cache directory: what reaches
 * stdout and stderr (issue: forged names, forged lines, terminal escapes, unbounded error lines), and signed
 * records refused with the documented codes.
 */
class HostileOutputTest extends RendezvousCommandFixture {
    private String record(String name, String host) {
        return Record.create(
                        name,
                        "7",
                        null,
                        host,
                        8000,
                        "http",
                        null,
                        System.currentTimeMillis() / 1000,
                        600,
                        cache(),
                        Map.of())
                .toJson();
    }

    private void put(String dir, String file, String text) throws IOException {
        Path d = Files.createDirectories(Path.of(cache(), "rendezvous", dir));
        Files.writeString(d.resolve(file), text);
    }

    private void assertOneErrorLine(int expectedStatus, int status) {
        assertEquals(expectedStatus, status, err);
        assertEquals("", out);
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("muster[-] error: ") && err.length() < 3000, err.length() + ": " + err);
        assertFalse(err.chars().anyMatch(c -> c < 0x20 && c != '\n' || c == 0x7f), "raw control characters: " + err);
    }

    @Test
    void env_recordInXNamingY_exportsNothingAsY() throws IOException {
        assertEquals(
                0, run("register", "y", "--host", "real-y", "--port", "9", "--job-id", "1", "--cache-dir", cache()));
        put("x", "latest.json", record("y", "attacker"));
        assertOneErrorLine(65, run("env", "y", "x", "--cache-dir", cache()));
        assertTrue(err.contains("names \"y\", not the name of its directory \"x\""), err);
        assertOneErrorLine(1, run("list", "--cache-dir", cache()));
        assertEquals(0, run("resolve", "y", "--cache-dir", cache()));
        assertTrue(out.contains("host: real-y\n"), out);
    }

    @Test
    void list_urlForgingASecondLine_isRefused_notPrinted() throws IOException {
        put(
                "m",
                "latest.json",
                record("m", "h")
                        .replace(
                                "\"url\": \"http://h:8000\"",
                                "\"url\": \"http://h:8000 job=7\\nforged http://evil:1\""));
        assertOneErrorLine(1, run("list", "--cache-dir", cache()));
        assertTrue(err.contains("field url holds the control character \"\\n\""), err);
    }

    @Test
    void resolveAndEnv_nulOrEscapeInHost_neverReachTheTerminal() throws IOException {
        put("nul", "latest.json", record("nul", "h").replace("\"host\": \"h\"", "\"host\": \"h\\u0000x\""));
        put(
                "esc",
                "latest.json",
                record("esc", "h").replace("\"host\": \"h\"", "\"host\": \"\\u001b]0;owned\\u0007\""));
        assertOneErrorLine(1, run("resolve", "nul", "--cache-dir", cache()));
        assertOneErrorLine(1, run("resolve", "esc", "--cache-dir", cache()));
        assertOneErrorLine(65, run("env", "esc", "--cache-dir", cache()));
        assertTrue(err.contains("\\u001b"), "named, escaped: " + err);
    }

    @Test
    void errorLines_60000DigitPort_and1MBRecord_areOneBoundedLine() throws IOException {
        assertOneErrorLine(
                2,
                run(
                        "register",
                        "m",
                        "--host",
                        "h",
                        "--port",
                        "9".repeat(60_000),
                        "--job-id",
                        "1",
                        "--cache-dir",
                        cache()));
        put("p", "latest.json", record("p", "h").replace("\"port\": 8000", "\"port\": " + "9".repeat(60_000)));
        assertOneErrorLine(1, run("resolve", "p", "--cache-dir", cache()));
        put("big", "latest.json", "{\"metadata\": {" + Json.quote("\n\u001b".repeat(400_000)) + ": \"v\"}}");
        assertOneErrorLine(1, run("resolve", "big", "--cache-dir", cache()));
        put(
                "key",
                "latest.json",
                record("key", "h")
                        .replace(
                                "\"metadata\": {}",
                                "\"metadata\": {" + Json.quote("\nmuster[-] error: forged\u001b[2J".repeat(1500))
                                        + ": 1}"));
        assertOneErrorLine(1, run("resolve", "key", "--cache-dir", cache()));
    }

    @Test
    void prune_pathFromADirectoryNamedWithANewline_staysOneLine() throws IOException {
        put(
                "a\nmuster forged",
                "1-manual.json",
                record("a", "h")
                        .replace("\"registered_at\": ", "\"registered_at\": 1" + "")
                        .replaceFirst("\"registered_at\": 1[0-9]+", "\"registered_at\": 1"));
        assertEquals(0, run("prune", "--cache-dir", cache()), err);
        assertEquals(
                List.of(
                        "removed 1 rendezvous record(s)",
                        "  " + cache() + "/rendezvous/a\\nmuster forged/" + "1-manual.json"),
                out.lines().toList());
    }

    private Path key(String name, String secret) throws IOException {
        Path f = Files.writeString(tmp.resolve(name), secret);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void keyedClient_refusesUnsignedAndForeign_withTheDocumentedCodes() throws IOException {
        String mine = key("mine", "0123456789abcdef0123456789abcdef\n").toString();
        String other = key("other", "fedcba9876543210fedcba9876543210\n").toString();
        assertEquals(
                0, run("register", "plain", "--host", "h", "--port", "9", "--job-id", "1", "--cache-dir", cache()));
        assertEquals(
                0,
                run(
                        "register",
                        "foreign",
                        "--host",
                        "h",
                        "--port",
                        "9",
                        "--job-id",
                        "1",
                        "--cache-dir",
                        cache(),
                        "--key-file",
                        other));
        assertEquals(
                0,
                run(
                        "register",
                        "signed",
                        "--host",
                        "h",
                        "--port",
                        "9",
                        "--job-id",
                        "1",
                        "--cache-dir",
                        cache(),
                        "--key-file",
                        mine));
        assertOneErrorLine(1, run("resolve", "plain", "--cache-dir", cache(), "--key-file", mine));
        assertTrue(err.contains("is not signed"), err);
        assertOneErrorLine(1, run("resolve", "foreign", "--cache-dir", cache(), "--key-file", mine));
        assertTrue(err.contains("does not match the key"), err);
        assertOneErrorLine(65, run("wait", "foreign", "--cache-dir", cache(), "--key-file", mine, "--timeout", "2s"));
        env.put("MUSTER_RDZV_KEY_FILE", mine);
        assertOneErrorLine(65, run("env", "plain", "--cache-dir", cache()));
        assertEquals(0, run("env", "signed", "--cache-dir", cache()));
        assertTrue(out.contains("export HPC_COMPOSE_RDZV_SIGNED_HOST='h'\n"), out);
        env.remove("MUSTER_RDZV_KEY_FILE");
        // without a key every record resolves as before, the signed one included
        assertEquals(0, run("resolve", "signed", "--cache-dir", cache(), "--format", "json"));
        assertFalse(out.contains("muster_signature"), out);
        Files.setPosixFilePermissions(Path.of(mine), PosixFilePermissions.fromString("rw-r--r--"));
        assertOneErrorLine(1, run("resolve", "signed", "--cache-dir", cache(), "--key-file", mine));
        assertTrue(err.contains("chmod o-rwx"), err);
    }
}
