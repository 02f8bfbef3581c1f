package dev.muster.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The edges of the strict reader: white space at every place RFC 8259 allows it, numbers at the limits of their
 * types, text cut anywhere (reported as end of input, which a reader that raced a writer retries) versus text that
 * is wrong (reported with its line and column), and messages that print control characters as escapes.
 */
class JsonParserTest {

    private static JsonException malformed(String text) {
        JsonException e = assertThrows(JsonException.class, () -> JsonParser.parse(text), text);
        assertFalse(e.endOfInput(), () -> text + " is wrong, not cut short: " + e.getMessage());
        return e;
    }

    private static JsonException truncated(String text) {
        JsonException e = assertThrows(JsonException.class, () -> JsonParser.parse(text), text);
        assertTrue(e.endOfInput(), () -> text + " is cut short, not wrong: " + e.getMessage());
        return e;
    }

    @Test
    void whitespace_insideEmptyContainers_andAroundSeparators_isAccepted() {
        assertEquals(Map.of(), JsonParser.parse("{ }"));
        assertEquals(List.of(), JsonParser.parse("[\n]"));
        assertEquals(
                Map.of("a", 1L, "b", List.of(2L, 3L)), JsonParser.parse("{ \"a\" : 1 ,\r\n\t\"b\"\t:\t[ 2 , 3 ] }"));
        assertEquals(List.of(1L), JsonParser.parse("[1 ]"));
    }

    @Test
    void literals_trueFalseNull_parse_andMisspellingsAreRejected() {
        assertEquals(Boolean.FALSE, JsonParser.parse("false"));
        assertEquals(Boolean.TRUE, JsonParser.parse("true"));
        assertEquals(List.of(false), JsonParser.parse("[false]"));
        truncated("fals");
        assertTrue(
                malformed("falze").getMessage().contains("expected 'false' at line 1 column 4"),
                malformed("falze").getMessage());
    }

    @Test
    void numbers_atTheEdgesOfLong_becomeLongOrBigInteger() {
        assertEquals(Long.MAX_VALUE, JsonParser.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, JsonParser.parse("-9223372036854775808"));
        assertEquals(new BigInteger("9223372036854775808"), JsonParser.parse("9223372036854775808"));
        assertEquals(new BigInteger("-9223372036854775809"), JsonParser.parse("-9223372036854775809"));
    }

    @Test
    void numbers_withZeroFractionOrExponent_parse() {
        assertEquals(0L, JsonParser.parse("0"));
        assertEquals(0L, JsonParser.parse("-0"));
        assertEquals(List.of(0L), JsonParser.parse("[0]"));
        assertEquals(0.5, JsonParser.parse("0.5"));
        assertEquals(0.0, JsonParser.parse("0e1"));
        assertEquals(1.0, JsonParser.parse("1.0"));
        assertEquals(9.9, JsonParser.parse("9.9"));
        assertEquals(1.0, JsonParser.parse("1e0"));
        assertEquals(100.0, JsonParser.parse("1e+2"));
        assertEquals(0.01, JsonParser.parse("1E-2"));
        assertInstanceOf(Double.class, JsonParser.parse("8000.0"));
    }

    @Test
    void numbers_withLeadingZero_areRejectedAsSuch() {
        for (String bad : List.of("00", "01", "09", "-01")) {
            assertTrue(malformed(bad).getMessage().contains("leading zero"), bad);
        }
    }

    @Test
    void numbers_cutAfterDotOrExponent_areTruncated_andLettersThereAreMalformed() {
        truncated("1e");
        truncated("1e+");
        truncated("1.");
        truncated("-");
        malformed("1ex");
        malformed("1.x");
        malformed("1.e5");
        malformed("-x");
        assertTrue(malformed("1e999").getMessage().contains("out of range"));
    }

    @Test
    void nesting_of64Levels_isAccepted_65IsRefused_inArraysAndObjects() {
        assertEquals(1L, unwrap(JsonParser.parse("[".repeat(64) + "1" + "]".repeat(64)), 64));
        assertTrue(malformed("[".repeat(65) + "1" + "]".repeat(65)).getMessage().contains("nesting"));
        String objects = "{\"a\":".repeat(100) + "1" + "}".repeat(100);
        assertTrue(malformed(objects).getMessage().contains("nesting"));
    }

    private static Object unwrap(Object v, int levels) {
        for (int i = 0; i < levels; i++) {
            v = ((List<?>) v).get(0);
        }
        return v;
    }

    @Test
    void text_cutAnywhere_isEndOfInput_neverAnotherException() {
        String doc = "{\"a\" : [1, \"x\\u00e9\\ud83d\\ude00\\n\", true, null, -2.5e+3], \"b\": {}}";
        assertEquals(2, ((Map<?, ?>) JsonParser.parse(doc)).size());
        for (int cut = 0; cut < doc.length(); cut++) {
            truncated(doc.substring(0, cut));
        }
        truncated("   ");
        truncated("\"\\u00");
        truncated("\"\\u0041");
        truncated("\"\\ud800");
        truncated("\"\\ud800\\");
        truncated("\"\\ud800\\u");
        truncated("\"\\ud800\\udc0");
    }

    @Test
    void string_withSpace_isKept_butARawControlCharacterIsRejectedAtItsColumn() {
        assertEquals("a b", JsonParser.parse("\"a b\""));
        assertEquals("\u007f", JsonParser.parse("\"\u007f\""));
        assertEquals("line 1 column 3", where(malformed("\"a\u001fb\"")));
    }

    @Test
    void string_loneHighSurrogateAtEndOfDocument_isMalformedNotTruncated() {
        // a complete document is damaged, not cut short: a reader must not wait for it to grow
        assertTrue(malformed("\"\\ud800\"").getMessage().contains("lone leading surrogate"));
        assertTrue(malformed("[\"\\ud800\"]").getMessage().contains("lone leading surrogate"));
        assertTrue(malformed("\"\\ud800x\"").getMessage().contains("lone leading surrogate"));
        assertTrue(malformed("\"\\ud800\\n\"").getMessage().contains("lone leading surrogate"));
        assertTrue(malformed("\"\\ud800\\u0041\"").getMessage().contains("lone leading surrogate"));
        assertTrue(malformed("\"\\udc00\"").getMessage().contains("lone trailing surrogate"));
    }

    @Test
    void errors_nameLineAndColumnOfTheOffendingCharacter() {
        assertEquals("line 2 column 8", where(malformed("{\n  \"a\": x\n}")));
        assertEquals("line 3 column 2", where(malformed("[\n1\n]]")));
        assertEquals("line 1 column 7", where(malformed("{\"a\":1;}")));
        assertEquals("line 1 column 3", where(malformed("[1;2]")));
        assertEquals("line 1 column 3", where(malformed("\"\\x\"")));
        assertEquals("line 1 column 6", where(malformed("\"\\u00g0\"")));
        assertEquals("line 1 column 4", where(malformed("trux")));
        assertTrue(malformed("{\"a\":1,\"a\":2}").getMessage().endsWith("duplicate key \"a\" at line 1 column 8"));
        assertEquals("line 3 column 1", where(truncated("[1,\n \n")));
        assertEquals("line 2 column 3", where(truncated("[1,\n  ")));
        assertEquals("line 1 column 5", where(truncated("{\"a\"")));
    }

    @Test
    void errors_printControlCharactersAsEscapes() {
        assertTrue(malformed("1\u0001").getMessage().contains("unexpected '\\u0001' after the end of the value"));
        assertTrue(malformed("1\u007f").getMessage().contains("'\\u007f'"));
        assertTrue(malformed("1x").getMessage().contains("unexpected 'x' after"));
        assertTrue(malformed("\"\\ \"").getMessage().contains("invalid escape '\\ '"));
        assertTrue(malformed("\u001f").getMessage().contains("'\\u001f' where a value should start"));
    }

    @Test
    void objects_needQuotedKeysColonsAndCommas() {
        truncated("{\"a\"");
        truncated("{\"a\":1");
        truncated("{\"a\":1,");
        truncated("[1");
        truncated("\"\\");
        malformed("{\"a\" 1}");
        malformed("{1:2}");
    }

    private static String where(JsonException e) {
        String m = e.getMessage();
        String at = m.substring(m.lastIndexOf(" at ") + 4);
        return e.endOfInput() ? at.substring(0, at.indexOf(", expected")) : at;
    }
}
