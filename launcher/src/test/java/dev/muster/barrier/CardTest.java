package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** A task's card: its limits at both ends (made, and read by rank 0), its escapes and its JSON (docs/roster.md). */
class CardTest {
    /** Rank 0's card whose encoding has exactly {@code n} bytes (published values fill it up). */
    private static Card cardOf(int n) {
        Map<String, String> v = new TreeMap<>();
        for (int i = 0; i < 4; i++) {
            v.put("k" + i, "x".repeat(1000));
        }
        int base = new Card(0, "n", 1, 0, "", "", Map.of(), v).encode().length;
        v.put("k3", "x".repeat(1000 + n - base));
        Card c = new Card(0, "n", 1, 0, "", "", Map.of(), v);
        assertEquals(n, c.encode().length);
        return c;
    }

    private static Card decode(String s, int rank) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return Card.decode(b, 0, b.length, rank);
    }

    @Test
    void check_acceptsACardOfExactlyMaxBytes_andRefusesOneMore() {
        assertEquals(Card.MAX_BYTES, cardOf(Card.MAX_BYTES).check().length);
        MusterException e = assertThrows(
                MusterException.class, () -> cardOf(Card.MAX_BYTES + 1).check());
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(
                e.getMessage().contains((Card.MAX_BYTES + 1) + " bytes, more than " + Card.MAX_BYTES), e.getMessage());
    }

    @Test
    void check_acceptsAValueOfExactlyMaxValueBytes_andRefusesOneMore_orABadName() {
        String max = "\u00e9".repeat(Card.MAX_VALUE / 2); // two UTF-8 bytes each
        new Card(0, "n", 1, 0, "", "", Map.of(), Map.of("v", max)).check();
        MusterException e = assertThrows(
                MusterException.class, () -> new Card(0, "n", 1, 0, "", "", Map.of(), Map.of("v", max + "x")).check());
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(
                e.getMessage().startsWith("--publish v: the value has 1025 bytes, more than the 1024 a card allows"),
                e.getMessage());
        MusterException bad = assertThrows(
                MusterException.class, () -> new Card(0, "n", 1, 0, "", "", Map.of(), Map.of("", "x")).check());
        assertTrue(bad.getMessage().startsWith("--publish '': "), bad.getMessage());
    }

    @Test
    void check_refusesABadPortName() {
        Card c = new Card(0, "n", 1, 0, "", "", Map.of("bad port", 80), Map.of());
        MusterException e = assertThrows(MusterException.class, c::check);
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(e.getMessage().startsWith("--port 'bad port': "), e.getMessage());
    }

    @Test
    void decode_acceptsMaxBytes_andRefusesOneMore() {
        byte[] b = cardOf(Card.MAX_BYTES).encode();
        assertEquals(cardOf(Card.MAX_BYTES), Card.decode(b, 0, b.length, 0));
        byte[] more = cardOf(Card.MAX_BYTES + 1).encode();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Card.decode(more, 0, more.length, 0));
        assertEquals("card of 4097 bytes", e.getMessage());
    }

    @Test
    void decode_checksPortsAndValuesAtTheirLimits() {
        Card ok = decode("rank=2\nport.lo=0\nport.hi=65535\nv.big=" + "y".repeat(Card.MAX_VALUE) + "\n", 2);
        assertEquals(Map.of("lo", 0, "hi", 65535), ok.ports());
        assertEquals(Card.MAX_VALUE, ok.values().get("big").length());
        for (String bad : new String[] {
            "port.p=-1", "port.p=65536", "port.b\\ead=1", "v.big=" + "y".repeat(Card.MAX_VALUE + 1), "v.a b=1", "=x"
        }) {
            assertThrows(IllegalArgumentException.class, () -> decode("rank=2\n" + bad + "\n", 2), bad);
        }
    }

    @Test
    void decode_ignoresUnknownFieldsAndEmptyLines_andFillsDefaults() {
        Card c = decode("\nrank=3\nlater_field=1\n\n", 3);
        assertEquals(new Card(3, "", 0, -1, "", "", Map.of(), Map.of()), c);
    }

    @Test
    void nodeAddressAndInterface_roundTrip_andNullsBecomeEmpty() {
        Card c = new Card(1, "n\\1=x", 7, 2, "10.0.0.1", "ib0", Map.of("p", 5), Map.of("k", "a=b\nc\\"));
        byte[] b = c.check();
        Card d = Card.decode(b, 0, b.length, 1);
        assertEquals(c, d);
        assertEquals("ib0", d.iface());
        assertEquals("a=b\nc\\", d.values().get("k"));
        Card empty = new Card(1, null, 7, 2, null, null, Map.of(), Map.of());
        assertEquals("", empty.node());
        assertEquals("", empty.address());
        assertEquals("", empty.iface());
    }

    @Test
    void json_showsTheNodeAsAddressWhenNoneIsAdvertised_andNullForNoInterface() {
        StringBuilder b = new StringBuilder();
        new Card(1, "n1", 7, 0, "", "", Map.of(), Map.of()).json(b);
        assertEquals(
                "{\"rank\":1,\"node\":\"n1\",\"pid\":7,\"local_rank\":0,\"address\":\"n1\",\"interface\":null,"
                        + "\"ports\":{},\"values\":{}}",
                b.toString());
        StringBuilder c = new StringBuilder();
        new Card(2, "n2", 8, 1, "10.0.0.2", "ib0", Map.of("a", 1), Map.of("x", "1")).json(c);
        assertEquals(
                "{\"rank\":2,\"node\":\"n2\",\"pid\":8,\"local_rank\":1,\"address\":\"10.0.0.2\",\"interface\":\"ib0\","
                        + "\"ports\":{\"a\":1},\"values\":{\"x\":\"1\"}}",
                c.toString());
        StringBuilder two = new StringBuilder();
        new Card(2, "n2", 8, 1, "", "", Map.of("a", 1, "b", 2), Map.of()).json(two);
        String t = two.toString();
        assertTrue(t.contains("\"ports\":{\"a\":1,\"b\":2}") || t.contains("\"ports\":{\"b\":2,\"a\":1}"), t);
    }

    @Test
    void unvalue_undoesTheEscapes_andKeepsATrailingBackslash() {
        assertEquals("a\nb=c\\d", Card.Escape.unvalue(Card.Escape.value("a\nb=c\\d")));
        assertEquals("a\\", Card.Escape.unvalue("a\\"));
        assertEquals("\\", Card.Escape.unvalue("\\"));
        assertEquals("q", Card.Escape.unvalue("\\q"));
    }

    @Test
    void line_showsAtMost80Characters_andMarksWhatItCut() {
        String eighty = "a".repeat(80);
        assertEquals("'" + eighty + "'", Card.Escape.line(eighty));
        assertEquals("'" + eighty + "...'", Card.Escape.line(eighty + "bc"));
        assertEquals("'a?b?'", Card.Escape.line("a\tb\u007f"));
    }
}
