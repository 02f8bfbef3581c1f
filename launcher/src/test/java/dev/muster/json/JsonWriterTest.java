package dev.muster.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link Json#quote} at its edges: short strings, the control-character boundary, and reading back. */
class JsonWriterTest {

    @Test
    void quote_emptyAndOneCharacterStrings() {
        assertEquals("\"\"", Json.quote(""));
        assertEquals("\"x\"", Json.quote("x"));
    }

    @Test
    void quote_escapesControlCharactersOnly_spaceAndDelStayLiteral() {
        assertEquals("\" \"", Json.quote(" "));
        assertEquals("\"\\u001f\"", Json.quote("\u001f"));
        assertEquals("\"\\u0000\"", Json.quote("\u0000"));
        assertEquals("\"\u007f\"", Json.quote("\u007f"));
        assertEquals("\"\\r\\t\\b\\f/\"", Json.quote("\r\t\b\f/"));
    }

    @Test
    void quote_thenParse_givesBackEveryAsciiCharacter_andSurrogatePairs() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x80; c++) {
            all.append(c);
        }
        all.append("\u00e9\ud83d\ude00");
        assertEquals(all.toString(), JsonParser.parse(Json.quote(all.toString())));
    }
}
