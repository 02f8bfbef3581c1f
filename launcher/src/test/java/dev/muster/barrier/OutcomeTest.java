package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutcomeTest {
    private static Outcome roundTrip(Outcome o) {
        byte[] b = o.encode();
        return Outcome.decode(b, b.length, "outcome");
    }

    @Test
    void release_roundTripsItsData_evenWithNewlinesAndEquals() {
        Outcome o = Outcome.release(0, Map.of("master_addr", "n1", "env.X", "a=b\nc\\d"));
        assertEquals(o, roundTrip(o));
    }

    @Test
    void abortAndTimeout_roundTrip() {
        assertEquals(
                Outcome.abort(3, 127, "rank 3: command not found: x"),
                roundTrip(Outcome.abort(3, 127, "rank 3: command not found: x")));
        assertEquals(Outcome.timeout(0, List.of(1, 5)), roundTrip(Outcome.timeout(0, List.of(1, 5))));
    }

    @Test
    void emptyOrShortRead_isNotYet() {
        byte[] b = Outcome.release(0, Map.of()).encode();
        assertNull(Outcome.decode(b, 0, "outcome"));
        assertNull(Outcome.decode(b, b.length - 1, "outcome"));
    }

    @Test
    void foreignContent_isCorrupt() {
        byte[] b = "hello\nend\n".getBytes(StandardCharsets.UTF_8);
        MusterException e = assertThrows(MusterException.class, () -> Outcome.decode(b, b.length, "/x/outcome"));
        assertEquals(65, e.status());
    }

    @Test
    void lineWithoutAKey_isCorrupt_namingTheLine() {
        byte[] b = (Outcome.HEADER + "kind=release\n=x\n" + Outcome.END).getBytes(StandardCharsets.UTF_8);
        MusterException e = assertThrows(MusterException.class, () -> Outcome.decode(b, b.length, "/x/outcome"));
        assertEquals(65, e.status());
        assertTrue(e.getMessage().contains("malformed line '=x'"), e.getMessage());
    }

    @Test
    void missingRanks_areWrittenCommaSeparatedWithoutALeadingComma() {
        String s = new String(Outcome.timeout(0, List.of(1, 5, 7)).encode(), StandardCharsets.UTF_8);
        assertTrue(s.contains("\nmissing=1,5,7\n"), s);
        assertEquals("", Outcome.joinRanks(List.of()));
    }

    @Test
    void endIn_findsTheEndLineWithinTheLengthOnly() {
        byte[] b = Outcome.release(0, Map.of("k", "v")).encode();
        assertEquals(b.length, Outcome.endIn(b, b.length));
        assertEquals(-1, Outcome.endIn(b, b.length - 1), "the end line is not complete within the length");
        byte[] more = java.util.Arrays.copyOf(b, b.length + 5);
        assertEquals(b.length, Outcome.endIn(more, more.length), "bytes after the end line are the next message's");
        assertEquals(-1, Outcome.endIn(new byte[0], 0));
    }

    @Test
    void loneBackslashAtTheEndOfAValue_isKeptLiterally() {
        String s = new String(Outcome.abort(1, 3, "x").encode(), StandardCharsets.UTF_8);
        assertTrue(s.contains("=x\n"), s);
        byte[] b = s.replace("=x\n", "=x\\\n").getBytes(StandardCharsets.UTF_8);
        assertEquals("x\\", Outcome.decode(b, b.length, "outcome").reason());
    }
}
