package dev.muster.rendezvous;

import static dev.muster.rendezvous.Conformance.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.json.JsonException;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RecordTest {

    @Test
    void fixtures_parse_withEveryField() {
        Record rust = Record.parse(fixture(Conformance.RUST_101), "f");
        assertEquals(
                new Record(
                        1,
                        "model",
                        "101",
                        "server",
                        "node-a",
                        8000,
                        "http",
                        "/v1",
                        "http://node-a:8000/v1",
                        10,
                        60,
                        "/shared/cache",
                        new TreeMap<>()),
                rust);
        Record cli = Record.parse(fixture(Conformance.RUST_42), "f");
        assertNull(cli.service());
        assertNull(cli.path());
        assertEquals("42", cli.jobId());
        Record bash = Record.parse(fixture(Conformance.BASH_12345), "f");
        assertEquals(Map.of("role", "server", "version", "v1"), bash.metadata());
        assertEquals("http://node07:8000/", bash.url());
        assertEquals(1767225600L, bash.registeredAt());
    }

    @Test
    void write_isByteIdenticalToRustWriter() {
        Record r = Record.create(
                "model", "101", "server", "node-a", 8000, "http", "/v1", 10, 60, "/shared/cache", Map.of());
        assertEquals(fixture(Conformance.RUST_101), r.toJson());
        Record manual =
                Record.create("model-server", "42", null, "node01", 8000, "http", "", 100, 300, "/shared/cache", null);
        assertEquals(fixture(Conformance.RUST_42), manual.toJson());
    }

    @Test
    void write_reparsesFixtures_toTheirOwnBytes() {
        assertEquals(
                fixture(Conformance.RUST_101),
                Record.parse(fixture(Conformance.RUST_101), "f").toJson());
        assertEquals(
                fixture(Conformance.RUST_42),
                Record.parse(fixture(Conformance.RUST_42), "f").toJson());
    }

    @Test
    void write_nonEmptyMetadata_sortedOneEntryPerLine() {
        Map<String, String> md = new TreeMap<>(Map.of("version", "v1", "role", "server"));
        Record r = Record.create("m", "1", null, "h", 1, "http", null, 5, 6, "/c", md);
        assertTrue(
                r.toJson().endsWith("  \"metadata\": {\n    \"role\": \"server\",\n    \"version\": \"v1\"\n  }\n}"),
                r.toJson());
    }

    @Test
    void lineReader_findsEveryNonNullStringAndNumberField() {
        Record r = Record.create(
                "model-server",
                "4711",
                "svc",
                "node-9",
                8443,
                "https",
                "/api",
                1767225600L,
                120,
                "/shared/cache",
                Map.of("role", "server", "zone", "a"));
        Map<String, String> found = Conformance.lineReader(r.toJson());
        Map<String, String> expected = new TreeMap<>(Map.of(
                "schema_version",
                "1",
                "name",
                "model-server",
                "job_id",
                "4711",
                "service",
                "svc",
                "host",
                "node-9",
                "port",
                "8443",
                "protocol",
                "https",
                "path",
                "/api",
                "url",
                "https://node-9:8443/api"));
        expected.putAll(Map.of("registered_at", "1767225600", "ttl_seconds", "120", "cache_dir", "/shared/cache"));
        // metadata entries are nested; the line rule must still find the top-level fields first
        found.remove("role");
        found.remove("zone");
        assertEquals(expected, new TreeMap<>(found));
    }

    @Test
    void lineReader_skipsNullFields() {
        Map<String, String> found = Conformance.lineReader(fixture(Conformance.RUST_42));
        assertFalse(found.containsKey("service"));
        assertFalse(found.containsKey("path"));
        assertEquals("42", found.get("job_id"));
        assertEquals("8000", found.get("port"));
    }

    @Test
    void read_acceptsAnyOrder_unknownFields_emptyOptionals_trailingNewline() {
        String text = "{\"port\": 9, \"host\": \"h\", \"future\": {\"x\": [1, 2.5]}, \"name\": \"n\","
                + " \"job_id\": \"7\", \"protocol\": \"tcp\", \"url\": \"tcp://h:9\", \"registered_at\": 0,"
                + " \"ttl_seconds\": 1, \"cache_dir\": \"/c\", \"schema_version\": 1, \"service\": \"\","
                + " \"path\": \"\"}\n";
        Record r = Record.parse(text, "f");
        assertEquals("", r.service());
        assertFalse(r.hasService());
        assertEquals("", r.path());
        assertTrue(r.metadata().isEmpty());
        Record missing = Record.parse(text.replace(", \"service\": \"\", \"path\": \"\"", ""), "f");
        assertNull(missing.service());
        assertNull(missing.path());
    }

    @Test
    void read_refusesWhatHpcComposeRefuses() {
        String ok = fixture(Conformance.RUST_101);
        assertCorrupt(ok.replace("\"job_id\": \"101\"", "\"job_id\": 101"), "job_id must be a string");
        assertCorrupt(ok.replace("\"ttl_seconds\": 60", "\"ttl_seconds\": -60"), "must not be negative");
        assertCorrupt(ok.replace("\"port\": 8000", "\"port\": 70000"), "port is 70000, above its maximum 65535");
        assertCorrupt(ok.replace("\"port\": 8000", "\"port\": 8000.0"), "port must be a whole number");
        assertCorrupt(ok.replace("\"metadata\": {}", "\"metadata\": {\"a\": 1}"), "metadata value for key \"a\"");
        assertCorrupt(ok.replace("  \"host\": \"node-a\",\n", ""), "lacks the field host");
        assertCorrupt(ok.replace("\"schema_version\": 1", "\"schema_version\": 2"), "schema_version 2");
        assertCorrupt(ok + "x", "not valid JSON");
        assertCorrupt("[]", "not a JSON object");
        assertCorrupt(ok.replace("\"name\": \"model\",", "\"name\": \"model\", \"name\": \"other\","), "duplicate key");
    }

    @Test
    void read_truncated_isEndOfInput_soReadersCanRetry() {
        String ok = fixture(Conformance.RUST_101);
        JsonException e = assertThrows(JsonException.class, () -> Record.parse(ok.substring(0, 100), "f"));
        assertTrue(e.endOfInput());
    }

    private static void assertCorrupt(String text, String expected) {
        MusterException e = assertThrows(MusterException.class, () -> Record.parse(text, "/x/latest.json"));
        assertEquals(ExitCodes.CORRUPT, e.status());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains("/x/latest.json"), e.getMessage());
    }

    @Test
    void create_validatesInHpcComposeOrder_withItsMessages() {
        assertInvalid("rendezvous name must not be empty", () -> create(" ", "", "", 0, "", 0, "x"));
        assertInvalid("rendezvous name must not be '.' or '..'", () -> create("..", "", "", 0, "", 0, "x"));
        assertInvalid(
                "rendezvous name must contain only ASCII letters, digits, '.', '_', or '-'",
                () -> create("a/b", "", "", 0, "", 0, "x"));
        assertInvalid("rendezvous job id must not be empty", () -> create("n", "", "", 0, "", 0, "x"));
        assertInvalid("rendezvous host must not be empty", () -> create("n", "1", "", 0, "", 0, "x"));
        assertInvalid("rendezvous port must be at least 1", () -> create("n", "1", "h", 0, "", 0, "x"));
        assertInvalid("rendezvous protocol must not be empty", () -> create("n", "1", "h", 1, "", 0, "x"));
        assertInvalid("rendezvous ttl must be at least 1 second", () -> create("n", "1", "h", 1, "tcp", 0, "x"));
        assertInvalid("rendezvous path must be empty or start with '/'", () -> create("n", "1", "h", 1, "tcp", 1, "x"));
    }

    @Test
    void names_hostile_areRefused() {
        for (String n : List.of("a/b", "../x", "a\0b", "modèle", "a b", "", ".", "..", "\t")) {
            MusterException e = assertThrows(MusterException.class, () -> Names.validate(n), n);
            assertEquals(ExitCodes.USAGE, e.status());
        }
        Names.validate("model.server-v1_2");
    }

    @Test
    void envToken_asHpcCompose() {
        assertEquals("MODEL_SERVER", Names.envToken("model-server"));
        assertEquals("MODEL_SERVER_V1", Names.envToken("model.server-v1"));
        assertEquals("_", Names.envToken(""));
    }

    @Test
    void liveness_futureCountsLive_expiresAtTtl() {
        Record r = Record.create("n", "1", null, "h", 1, "tcp", null, 100, 60, "/c", null);
        assertTrue(r.isLive(50));
        assertTrue(r.isLive(159));
        assertFalse(r.isLive(160));
        assertEquals(1, r.secondsLeft(159));
    }

    @Test
    void copiedFixtures_matchTheSharedConformanceDir() throws IOException {
        Path shared = Conformance.sharedDir();
        if (shared == null) {
            Slurm.unavailable("shared conformance dir (shared/conformance/hpc-compose beside the checkout, or"
                    + " -Dmuster.conformance=DIR) not visible from "
                    + Path.of("").toAbsolutePath());
        }
        for (String f : List.of(
                Conformance.RUST_101, Conformance.RUST_42, Conformance.BASH_12345, Conformance.REGISTER_OUTPUT)) {
            assertEquals(Files.readString(shared.resolve(f)), fixture(f), f);
        }
    }

    private static Record create(
            String name, String job, String host, int port, String protocol, long ttl, String path) {
        return Record.create(name, job, null, host, port, protocol, path, 0, ttl, "/c", null);
    }

    private static void assertInvalid(String message, Runnable r) {
        MusterException e = assertThrows(MusterException.class, r::run);
        assertEquals(message, e.getMessage());
    }
}
