package dev.muster.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SafeTextTest {
    @Test
    void quote_escapesControlsBidiAndSeparators() {
        assertEquals(
                "\"a\\nb\\u001b[31m\\u0000\\\\\\\"\\u202e\\u2028\\u009b\"",
                SafeText.quote("a\nb\u001b[31m\u0000\\\"\u202e\u2028\u009b"));
        assertEquals("\"mod\u00e8le \ud83d\ude00\"", SafeText.quote("mod\u00e8le \ud83d\ude00"), "printable kept");
        assertEquals("\"\\ud800x\"", SafeText.quote("\ud800x"), "a lone surrogate is escaped");
    }

    @Test
    void quote_cutsLongValues_andSaysHowMuch() {
        String q = SafeText.quote("x".repeat(10_000));
        assertTrue(q.endsWith("\" (9800 more characters)"), q);
        assertEquals(SafeText.VALUE_CHARS + 2 + " (9800 more characters)".length(), q.length());
    }

    @Test
    void line_cleanMessage_isReturnedAsItIs() {
        String m = "rendezvous record /a/latest.json is truncated; remove it";
        assertSame(m, SafeText.line(m));
    }

    @Test
    void line_forgedSecondLine_staysOneLine() {
        assertEquals("bad\\nmuster[-] error: forged\\r", SafeText.line("bad\nmuster[-] error: forged\r"));
        String huge = SafeText.line("9".repeat(60_000));
        assertTrue(huge.length() < SafeText.LINE_CHARS + 40 && huge.endsWith("(58000 more characters)"), huge);
    }
}
