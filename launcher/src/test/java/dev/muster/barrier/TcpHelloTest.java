package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Rank 0's reading of one connection's hello: which bytes authenticate a rank, which wait, which are refused. */
class TcpHelloTest {
    private static final byte[] TOKEN = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");
    private static final String HEX = HexFormat.of().formatHex(TOKEN);

    private static TcpHello received(String s) {
        TcpHello h = new TcpHello(0);
        h.bytes.put(s.getBytes(StandardCharsets.US_ASCII));
        return h;
    }

    private static int parse(String s) {
        return received(s).parse(4, TOKEN);
    }

    @Test
    void version1_authenticatesRanksOneToSizeLessOne() {
        TcpHello h = received(TcpHello.HELLO + "3 " + HEX + "\n");
        assertEquals(3, h.parse(4, TOKEN));
        assertFalse(h.bye());
        assertNull(h.card());
        assertEquals(1, parse(TcpHello.HELLO + "1 " + HEX + "\n"));
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "0 " + HEX + "\n"), "rank 0 does not say hello");
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "4 " + HEX + "\n"), "rank = size");
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "03 " + HEX + "\n"));
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "1000000003 " + HEX + "\n"), "ten digits");
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + " 3 " + HEX + "\n"), "empty rank field");
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "3 " + HEX + " x\n"), "a third field");
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "3\n"), "no token");
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "3 " + HEX.replace('a', '0') + "\n"), "wrong token");
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "3 " + HEX.substring(1) + "\n"), "odd hex");
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "3 " + HEX.substring(2) + "\n"), "short token");
        assertEquals(TcpHello.BAD, parse("muster-hello 3 3 " + HEX + "\n"), "unknown version");
        assertEquals(TcpHello.BAD, parse("GET / HTTP/1.1\r\n"));
        assertEquals(TcpHello.BAD, parse("\n" + TcpHello.HELLO + "3 " + HEX + "\n"), "an empty line first");
    }

    @Test
    void lineWithoutNewline_waitsUntilItReachesTheBound_thenIsRefused() {
        assertEquals(TcpHello.INCOMPLETE, parse(""));
        assertEquals(TcpHello.INCOMPLETE, parse(TcpHello.HELLO + "3 " + HEX));
        String almost = "x".repeat(TcpHello.MAX_LINE - 1);
        assertEquals(TcpHello.INCOMPLETE, parse(almost));
        assertEquals(TcpHello.BAD, parse(almost + "x"), "MAX_LINE bytes without a newline");
    }

    @Test
    void byeAfterTheHello_isAccepted_anythingElseAfterItIsNot() {
        TcpHello bye = received(TcpHello.HELLO + "2 " + HEX + "\nbye\n");
        assertEquals(2, bye.parse(4, TOKEN));
        assertTrue(bye.bye());
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "2 " + HEX + "\nbye\nx"));
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "2 " + HEX + "\nbyx\n"));
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO + "2 " + HEX + "\nx"));
    }

    @Test
    void version2_waitsForTheAnnouncedCard_thenAnOptionalBye() {
        byte[] card = "0123456789".getBytes(StandardCharsets.US_ASCII);
        TcpHello h = received(TcpHello.HELLO_CARD + "3 " + HEX + " 10\n");
        assertEquals(TcpHello.INCOMPLETE, h.parse(4, TOKEN));
        assertEquals(TcpHello.MAX, h.bytes.capacity(), "room for a card and a bye");
        h.bytes.put(card, 0, 9);
        assertEquals(TcpHello.INCOMPLETE, h.parse(4, TOKEN));
        h.bytes.put(card, 9, 1);
        assertEquals(3, h.parse(4, TOKEN));
        assertArrayEquals(card, h.card());
        assertFalse(h.bye());
        h.bytes.put(TcpHello.BYE);
        assertEquals(3, h.parse(4, TOKEN));
        assertTrue(h.bye());
        assertArrayEquals(card, h.card());

        TcpHello empty = received(TcpHello.HELLO_CARD + "3 " + HEX + " 0\n");
        assertEquals(3, empty.parse(4, TOKEN));
        assertNull(empty.card());
    }

    @Test
    void version2_refusesABadCardLength_andKeepsTheBytesAlreadyReceived() {
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO_CARD + "3 " + HEX + " -1\n"));
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO_CARD + "3 " + HEX + " x\n"));
        assertEquals(TcpHello.BAD, parse(TcpHello.HELLO_CARD + "3 " + HEX + " " + (Card.MAX_BYTES + 1) + "\n"));
        String line = TcpHello.HELLO_CARD + "3 " + HEX + " " + Card.MAX_BYTES + "\n";
        TcpHello h = received(line);
        assertEquals(TcpHello.INCOMPLETE, h.parse(4, TOKEN), "the largest card is allowed");
        byte[] kept = Arrays.copyOf(h.bytes.array(), line.length());
        assertArrayEquals(line.getBytes(StandardCharsets.US_ASCII), kept, "grown without losing the line");
        assertEquals(line.length(), h.bytes.position());
    }

    @Test
    void of_writesTheLineThenTheCard_asParseReadsThem() {
        assertArrayEquals(
                (TcpHello.HELLO + "5 " + HEX + "\n").getBytes(StandardCharsets.US_ASCII), TcpHello.of(5, TOKEN, null));
        byte[] card = "0123456789".getBytes(StandardCharsets.US_ASCII);
        byte[] hello = TcpHello.of(5, TOKEN, card);
        assertEquals(
                TcpHello.HELLO_CARD + "5 " + HEX + " 10\n0123456789", new String(hello, StandardCharsets.US_ASCII));
        TcpHello h = new TcpHello(0);
        h.bytes.put(hello);
        assertEquals(5, h.parse(8, TOKEN));
        assertArrayEquals(card, h.card());
    }

    @Test
    void rankOfNineDigits_isTheLongestAccepted() {
        TcpHello h = received(TcpHello.HELLO + "123456789 " + HEX + "\n");
        assertEquals(123456789, h.parse(Integer.MAX_VALUE, TOKEN));
        assertEquals(
                TcpHello.BAD,
                received(TcpHello.HELLO + "123456789 " + HEX + "\n").parse(123456789, TOKEN));
    }
}
