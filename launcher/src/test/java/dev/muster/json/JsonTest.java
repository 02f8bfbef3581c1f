package dev.muster.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parse_values() {
        assertEquals(
                Map.of("a", List.of(1L, -2L, 2.5, true, "x\u00e9\ud83d\ude00")),
                JsonParser.parse(" {\"a\": [1, -2, 2.5e0, true, \"x\\u00e9\\ud83d\\ude00\"]}\n"));
        assertEquals(new BigInteger("18446744073709551616"), JsonParser.parse("18446744073709551616"));
        assertEquals(null, JsonParser.parse("null"));
    }

    @Test
    void parse_strict() {
        for (String bad : List.of(
                "{\"a\":1,}",
                "[1,]",
                "01",
                "1.",
                "-",
                "\"\u0001\"",
                "\"\\x\"",
                "{a:1}",
                "{\"a\":1}{",
                "\"\\ud800\"",
                "tru",
                "[1 2]",
                "{\"a\":1,\"a\":2}",
                "nul!")) {
            assertThrows(JsonException.class, () -> JsonParser.parse(bad), bad);
        }
    }

    @Test
    void parse_deepNesting_isRefusedNotAStackOverflow() {
        String deep = "[".repeat(100_000);
        JsonException e = assertThrows(JsonException.class, () -> JsonParser.parse(deep));
        assertTrue(e.getMessage().contains("nesting"), e.getMessage());
    }

    @Test
    void parse_badUnicodeEscapeInTheLastFourCharacters_isInvalidNotTruncated() {
        for (String bad : List.of("\"\\uZ", "\"\\u0G", "\"\\u00x", "\"\\u12", "\"\\u\u0663\u0663\u0663\u0663\"")) {
            JsonException e = assertThrows(JsonException.class, () -> JsonParser.parse(bad), bad);
            assertEquals(
                    !bad.contains("Z") && !bad.contains("G") && !bad.contains("x") && !bad.contains("\u0663"),
                    e.endOfInput(),
                    bad + ": " + e.getMessage());
        }
        assertTrue(
                assertThrows(JsonException.class, () -> JsonParser.parse("\"\\u00"))
                        .endOfInput(),
                "hex digits so far: a short read");
    }

    @Test
    void parse_nestingLimit_isExactlyWhatTheMessageSays() {
        assertEquals(64, depth(JsonParser.parse("[".repeat(64) + "]".repeat(64))));
        assertEquals(64, depth(JsonParser.parse("{\"a\":".repeat(63) + "[1]" + "}".repeat(63))));
        JsonException e = assertThrows(JsonException.class, () -> JsonParser.parse("[".repeat(65) + "]".repeat(65)));
        assertTrue(e.getMessage().startsWith("nesting deeper than 64 levels"), e.getMessage());
        assertThrows(JsonException.class, () -> JsonParser.parse("{\"a\":".repeat(65) + "1" + "}".repeat(65)));
    }

    private static int depth(Object v) {
        if (v instanceof List<?> l) {
            return 1 + l.stream().mapToInt(JsonTest::depth).max().orElse(0);
        }
        if (v instanceof Map<?, ?> m) {
            return 1 + m.values().stream().mapToInt(JsonTest::depth).max().orElse(0);
        }
        return 0;
    }

    @Test
    void parse_truncated_saysEndOfInput() {
        assertTrue(assertThrows(JsonException.class, () -> JsonParser.parse("{\"a\": \"b"))
                .endOfInput());
        assertFalse(assertThrows(JsonException.class, () -> JsonParser.parse("{\"a\": x"))
                .endOfInput());
    }

    @Test
    void pretty_matchesSerdeLayout() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", 1);
        m.put("e", Map.of());
        m.put("l", List.of());
        m.put("x", List.of("p", "q"));
        m.put("n", null);
        assertEquals(
                "{\n  \"a\": 1,\n  \"e\": {},\n  \"l\": [],\n  \"x\": [\n    \"p\",\n    \"q\"\n  ],\n"
                        + "  \"n\": null\n}",
                Json.pretty(m));
        assertEquals("[]", Json.pretty(List.of()));
    }

    @Test
    void quote_escapesAsSerde() {
        assertEquals("\"a\\\"\\\\\\n\\u0001\u00e9\"", Json.quote("a\"\\\n\u0001\u00e9"));
    }
}
