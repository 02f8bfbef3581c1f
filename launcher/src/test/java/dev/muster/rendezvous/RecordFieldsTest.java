package dev.muster.rendezvous;

import static dev.muster.rendezvous.Conformance.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A record's fields at their limits, both when a provider creates one and when a file is read: ports 1 and
 * 65535, zero and out-of-range numbers, optional fields given as empty, null or the wrong type, and what the
 * message says about a wrong value.
 */
class RecordFieldsTest {
    private static final String OK = fixture(Conformance.RUST_101);

    private static Record create(int port, String path, String service, long ttl) {
        return Record.create("n", "1", service, "h", port, "tcp", path, 100, ttl, "/c", null);
    }

    private static String corrupt(String text) {
        MusterException e = assertThrows(MusterException.class, () -> Record.parse(text, "/x/latest.json"));
        assertEquals(ExitCodes.CORRUPT, e.status());
        assertTrue(e.getMessage().startsWith("rendezvous record /x/latest.json "), e.getMessage());
        assertTrue(e.getMessage().endsWith("; remove it or register again"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void create_portOneAnd65535_areValid_65536IsRefusedNamingIt() {
        assertEquals("tcp://h:1", create(1, null, null, 1).url());
        assertEquals("tcp://h:65535/v1", create(65535, "/v1", null, 1).url());
        MusterException e = assertThrows(MusterException.class, () -> create(65536, null, null, 1));
        assertEquals("rendezvous port 65536 is above 65535", e.getMessage());
        assertEquals(ExitCodes.USAGE, e.status());
    }

    @Test
    void create_emptyPathAndService_becomeNull_slashPathIsKept() {
        Record r = create(80, "", "", 1);
        assertNull(r.path());
        assertNull(r.service());
        assertFalse(r.hasService());
        assertEquals("tcp://h:80", r.url());
        assertEquals("/", create(80, "/", "svc", 1).path());
        assertTrue(create(80, "/", "svc", 1).hasService());
        assertEquals(Map.of(), r.metadata());
    }

    @Test
    void secondsLeft_isTheWholeTtl_forARecordFromTheFuture_andZeroAfterExpiry() {
        Record r = create(80, null, null, 60);
        assertEquals(60, r.secondsLeft(50));
        assertEquals(60, r.secondsLeft(100));
        assertEquals(10, r.secondsLeft(150));
        assertEquals(0, r.secondsLeft(1000));
        assertTrue(create(80, null, null, 1).isLive(100));
        assertFalse(create(80, null, null, 1).isLive(101));
    }

    @Test
    void parse_zeroAndTheMaximumOfEachNumber_areAccepted() {
        Record r = Record.parse(
                OK.replace("\"port\": 8000", "\"port\": 65535")
                        .replaceFirst("\"registered_at\": [0-9]+", "\"registered_at\": 0"),
                "f");
        assertEquals(65535, r.port());
        assertEquals(0, r.registeredAt());
        Record z = Record.parse(OK.replace("\"port\": 8000", "\"port\": 0"), "f");
        assertEquals(0, z.port(), "read as the file says; only create validates ports");
    }

    @Test
    void parse_numbersBeyondTheirRange_areCorrupt() {
        assertTrue(corrupt(OK.replace("\"port\": 8000", "\"port\": 65536"))
                .contains("field port is 65536, above its maximum 65535"));
        assertTrue(corrupt(OK.replace("\"schema_version\": 1", "\"schema_version\": 4294967296"))
                .contains("above its maximum 4294967295"));
        assertTrue(corrupt(OK.replaceFirst("\"registered_at\": [0-9]+", "\"registered_at\": 99999999999999999999"))
                .contains("field registered_at is 99999999999999999999, out of range"));
        assertTrue(corrupt(OK.replace("\"port\": 8000", "\"port\": -1"))
                .contains("field port must not be negative, got -1"));
    }

    @Test
    void parse_wrongTypes_areDescribedInTheMessage() {
        assertTrue(
                corrupt(OK.replace("\"port\": 8000", "\"port\": \"8000\""))
                        .contains("field port must be a whole number, got the string \"8000\""),
                corrupt(OK.replace("\"port\": 8000", "\"port\": \"8000\"")));
        // a value in a message is quoted, escaped and cut at SafeText.VALUE_CHARS, saying how much was left out
        String longValue = "x".repeat(250);
        assertTrue(
                corrupt(OK.replace("\"port\": 8000", "\"port\": \"" + longValue + "\""))
                        .contains("got the string \"" + "x".repeat(200) + "\" (50 more characters)"),
                corrupt(OK.replace("\"port\": 8000", "\"port\": \"" + longValue + "\"")));
        assertTrue(
                corrupt(OK.replace("\"port\": 8000", "\"port\": {}")).contains("got an object"),
                corrupt(OK.replace("\"port\": 8000", "\"port\": {}")));
        assertTrue(
                corrupt(OK.replace("\"port\": 8000", "\"port\": []")).contains("got an array"),
                corrupt(OK.replace("\"port\": 8000", "\"port\": []")));
        assertTrue(
                corrupt(OK.replace("\"port\": 8000", "\"port\": null")).contains("got null"),
                corrupt(OK.replace("\"port\": 8000", "\"port\": null")));
        assertTrue(
                corrupt(OK.replace("\"port\": 8000", "\"port\": true")).contains("got true"),
                corrupt(OK.replace("\"port\": 8000", "\"port\": true")));
        assertTrue(
                corrupt(OK.replace("\"host\": \"node-a\"", "\"host\": null"))
                        .contains("field host must be a string, got null"),
                corrupt(OK.replace("\"host\": \"node-a\"", "\"host\": null")));
        assertTrue(
                corrupt(OK.replace("\"job_id\": \"101\"", "\"job_id\": 101"))
                        .contains("field job_id must be a string, got 101"),
                corrupt(OK.replace("\"job_id\": \"101\"", "\"job_id\": 101")));
        assertTrue(
                corrupt(OK.replace("  \"port\": 8000,\n", "")).contains("lacks the field port"),
                corrupt(OK.replace("  \"port\": 8000,\n", "")));
    }

    @Test
    void parse_optionalFields_nullOrAbsent_areNull_wrongTypeIsCorrupt() {
        Record r = Record.parse(OK.replace("\"metadata\": {}", "\"metadata\": null"), "f");
        assertEquals(Map.of(), r.metadata());
        assertTrue(corrupt(OK.replace("\"metadata\": {}", "\"metadata\": []"))
                .contains("field metadata must be an object of strings"));
        assertTrue(corrupt(OK.replaceFirst("\"service\": (null|\"[^\"]*\")", "\"service\": 1"))
                .contains("field service must be a string or null, got 1"));
        Record md = Record.parse(OK.replace("\"metadata\": {}", "\"metadata\": {\"b\": \"2\", \"a\": \"1\"}"), "f");
        assertEquals(Map.of("a", "1", "b", "2"), md.metadata());
        assertEquals("a", md.metadata().firstKey());
    }

    @Test
    void parse_invalidJson_isCorrupt_withTheParsersReason() {
        assertTrue(corrupt("{\"a\": x}").contains("is not valid JSON: unexpected 'x'"));
        assertTrue(corrupt("1").contains("is not a JSON object"));
    }
}
