package dev.muster.barrier;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The lines of the TCP release protocol, and one unauthenticated connection's hello as rank 0 receives it: a peer
 * sends {@code muster-hello 1 <rank> <token hex>\n}, or, with its roster card, {@code muster-hello 2 <rank>
 * <token hex> <card bytes>\n} followed by that many bytes of {@link Card}; rank 0 answers {@code ok\n}; a peer
 * leaving at its own deadline sends {@code bye\n} (possibly right after its hello, when rank 0 never answered).
 */
final class TcpHello {
    /** The hello line, at most. */
    static final int MAX_LINE = 128;
    /** The hello line, a card and a bye, at most. */
    static final int MAX = MAX_LINE + Card.MAX_BYTES + 4;

    static final long TIMEOUT_NANOS = 2_000_000_000L;
    static final String HELLO = "muster-hello 1 ";
    static final String HELLO_CARD = "muster-hello 2 ";
    static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    /** A peer leaving at its own deadline says so first: then its close is no lost task (see TcpBarrier). */
    static final byte[] BYE = "bye\n".getBytes(StandardCharsets.US_ASCII);
    /**
     * Rank 0's sign of life to every accepted task while it waits, one empty line every {@link #BEAT_NANOS}; a task
     * skips them before the outcome. A connection alone does not tell: a node cut off or a task frozen (SIGSTOP)
     * keeps its connections open without a word.
     */
    static final byte[] BEAT = "\n".getBytes(StandardCharsets.US_ASCII);

    static final long BEAT_NANOS = 1_000_000_000L;
    /** A task that has heard nothing from rank 0 for this long calls it unresponsive when it gives up. */
    static final long SILENT_NANOS = 3 * BEAT_NANOS;

    /** {@link #parse}: the line is not complete yet. */
    static final int INCOMPLETE = -2;
    /** {@link #parse}: not a valid hello (bad syntax, rank or token, or too long). */
    static final int BAD = -1;

    final long since;
    /** Starts at the line's bound; grown to {@link #MAX} when a version 2 hello announces a card. */
    ByteBuffer bytes = ByteBuffer.allocate(MAX_LINE);

    private boolean bye;
    private byte[] card;

    /** The hello a peer sends: version 1, or version 2 with {@code card} after the line when it is not null. */
    static byte[] of(int rank, byte[] token, byte[] card) {
        String line = card == null
                ? HELLO + rank + " " + HexFormat.of().formatHex(token) + "\n"
                : HELLO_CARD + rank + " " + HexFormat.of().formatHex(token) + " " + card.length + "\n";
        byte[] l = line.getBytes(StandardCharsets.US_ASCII);
        byte[] all = card == null ? l : java.util.Arrays.copyOf(l, l.length + card.length);
        if (card != null) {
            System.arraycopy(card, 0, all, l.length, card.length);
        }
        return all;
    }

    /** Writes a hello on a connected channel at once; false when it cannot (at most ~4.2 KB: an empty buffer takes it). */
    static boolean send(java.nio.channels.SocketChannel ch, byte[] hello) {
        ByteBuffer b = ByteBuffer.wrap(hello);
        try {
            ch.write(b);
        } catch (java.io.IOException e) {
            return false;
        }
        return !b.hasRemaining();
    }

    TcpHello(long since) {
        this.since = since;
    }

    /** Whether the hello came with a {@code bye}: the peer gave up waiting for rank 0's answer. */
    boolean bye() {
        return bye;
    }

    /** The card that came with a version 2 hello, or null. */
    byte[] card() {
        return card;
    }

    /** The rank the bytes received so far authenticate, {@link #INCOMPLETE} or {@link #BAD}. */
    int parse(int size, byte[] token) {
        ByteBuffer b = bytes;
        int nl = -1;
        for (int i = 0; i < b.position() && i < MAX_LINE; i++) {
            if (b.get(i) == '\n') {
                nl = i;
                break;
            }
        }
        if (nl < 0) {
            return b.position() < MAX_LINE ? INCOMPLETE : BAD;
        }
        String line = new String(b.array(), 0, nl, StandardCharsets.US_ASCII);
        int cardLen = 0;
        if (line.startsWith(HELLO_CARD)) {
            int sp = line.lastIndexOf(' ');
            try {
                cardLen = Integer.parseInt(line.substring(sp + 1));
            } catch (NumberFormatException e) {
                return BAD;
            }
            if (cardLen < 0 || cardLen > Card.MAX_BYTES) {
                return BAD;
            }
            line = HELLO + line.substring(HELLO_CARD.length(), sp);
            if (b.capacity() < MAX) {
                ByteBuffer bigger = ByteBuffer.allocate(MAX);
                b.flip();
                bytes = bigger.put(b);
                b = bytes;
            }
        }
        int rank = authenticate(line, size, token);
        if (rank < 0) {
            return BAD; // before waiting for a card: a stranger's bytes are not read any further
        }
        int at = nl + 1 + cardLen;
        if (b.position() < at) {
            return INCOMPLETE;
        }
        int rest = b.position() - at;
        bye = rest == BYE.length && Arrays.equals(Arrays.copyOfRange(b.array(), at, b.position()), BYE);
        if (rest != 0 && !bye) {
            return BAD;
        }
        card = cardLen == 0 ? null : Arrays.copyOfRange(b.array(), nl + 1, at);
        return rank;
    }

    /** The rank a hello line authenticates, or -1. */
    private static int authenticate(String line, int size, byte[] token) {
        if (!line.startsWith(HELLO)) {
            return -1;
        }
        String[] f = line.substring(HELLO.length()).split(" ");
        if (f.length != 2 || f[0].isEmpty() || f[0].length() > 9) {
            return -1;
        }
        int rank = StepFiles.parseRank(f[0]);
        if (rank <= 0 || rank >= size) {
            return -1;
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(f[1]);
        } catch (IllegalArgumentException e) {
            return -1;
        }
        return MessageDigest.isEqual(given, token) ? rank : -1;
    }
}
