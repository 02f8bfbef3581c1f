package dev.muster.barrier;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The lines of the TCP release protocol, and one unauthenticated connection's hello as rank 0 receives it: a peer
 * sends {@code muster-hello 1 <rank> <token hex>\n}, rank 0 answers {@code ok\n}; a peer leaving at its own
 * deadline sends {@code bye\n} (possibly right after its hello, when rank 0 never answered).
 */
final class TcpHello {
    static final int MAX = 128;
    static final long TIMEOUT_NANOS = 2_000_000_000L;
    static final String HELLO = "muster-hello 1 ";
    static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    /** A peer leaving at its own deadline says so first: then its close is no lost task (see TcpBarrier). */
    static final byte[] BYE = "bye\n".getBytes(StandardCharsets.US_ASCII);

    /** {@link #parse}: the line is not complete yet. */
    static final int INCOMPLETE = -2;
    /** {@link #parse}: not a valid hello (bad syntax, rank or token, or too long). */
    static final int BAD = -1;

    final long since;
    final ByteBuffer bytes = ByteBuffer.allocate(MAX);
    private boolean bye;

    TcpHello(long since) {
        this.since = since;
    }

    /** Whether the hello came with a {@code bye}: the peer gave up waiting for rank 0's answer. */
    boolean bye() {
        return bye;
    }

    /** The rank the bytes received so far authenticate, {@link #INCOMPLETE} or {@link #BAD}. */
    int parse(int size, byte[] token) {
        ByteBuffer b = bytes;
        int nl = -1;
        for (int i = 0; i < b.position(); i++) {
            if (b.get(i) == '\n') {
                nl = i;
                break;
            }
        }
        if (nl < 0) {
            return b.hasRemaining() ? INCOMPLETE : BAD;
        }
        int rank = authenticate(new String(b.array(), 0, nl, StandardCharsets.US_ASCII), size, token);
        int rest = b.position() - nl - 1;
        bye = rest == BYE.length && Arrays.equals(Arrays.copyOfRange(b.array(), nl + 1, b.position()), BYE);
        return rank < 0 || (rest != 0 && !bye) ? BAD : rank;
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
