package dev.muster.barrier;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * A non-zero rank's side of the TCP release path: connect, hello, wait for {@code ok}, then wait in one select
 * until the outcome arrives. While connected the task makes no file-system call at all.
 *
 * <p>A non-blocking {@link SocketChannel} with a {@link Selector}, not {@code java.net.Socket}: the latter loads
 * proxy and SDP machinery that cost a cold JVM ~100 ms on the release path, and has no connect-and-read deadline
 * in one place.
 */
final class TcpClient implements AutoCloseable {
    /** How a connection attempt ended. */
    enum State {
        CONNECTED,
        REFUSED,
        UNREACHABLE
    }

    private final SocketChannel ch;
    private final Selector selector;
    private ByteBuffer buf = ByteBuffer.allocate(1024);
    /** When rank 0 last sent anything ({@link System#nanoTime}): its beats, its ok, the outcome. */
    private long heardAt = System.nanoTime();

    private byte[] roster;

    private TcpClient(SocketChannel ch, Selector selector) {
        this.ch = ch;
        this.selector = selector;
    }

    /** Result of {@link #connect}: a client when {@code state} is CONNECTED, else why not. */
    record Attempt(State state, TcpClient client, String problem) {}

    /**
     * Connects and sends the hello within {@code timeoutMillis}; {@link #awaitOk} then waits for rank 0 to accept
     * it. UNREACHABLE: no route, no listener, or no connection in time; REFUSED: reset by rank 0.
     */
    static Attempt connect(TcpEndpoint ep, int rank, long timeoutMillis) {
        return connect(ep, TcpHello.of(rank, ep.token(), null), timeoutMillis);
    }

    /**
     * Connects and sends {@code hello} at once, or connects only when it is null: the small waiter then sends it
     * ({@link WaiterHandOff#handOverBeforeHello}), or {@link #hello} does.
     */
    static Attempt connect(TcpEndpoint ep, byte[] hello, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        SocketChannel ch = null;
        // (the hello goes out at once; the caller waits for the answer with awaitOk)
        Selector sel = null;
        try {
            ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            sel = Selector.open();
            // an IP literal: no name service on the release path
            InetSocketAddress addr = new InetSocketAddress(InetAddress.getByName(ep.host()), ep.port());
            if (!ch.connect(addr)) {
                SelectionKey k = ch.register(sel, SelectionKey.OP_CONNECT);
                while (!ch.finishConnect()) {
                    if (!waitFor(sel, deadline)) {
                        close(ch, sel);
                        return new Attempt(State.UNREACHABLE, null, "no connection within " + timeoutMillis + " ms");
                    }
                }
                k.cancel();
                sel.selectNow(); // flushes the cancelled key before the channel registers again
            }
            if (hello != null && !TcpHello.send(ch, hello)) {
                close(ch, sel);
                return new Attempt(State.UNREACHABLE, null, "cannot send the hello");
            }
            ch.register(sel, SelectionKey.OP_READ);
            return new Attempt(State.CONNECTED, new TcpClient(ch, sel), null);
        } catch (IOException e) {
            close(ch, sel);
            String m = e.getMessage();
            boolean reset = m != null && m.contains("reset");
            return new Attempt(
                    reset ? State.REFUSED : State.UNREACHABLE,
                    null,
                    e.getClass().getSimpleName() + (m == null ? "" : ": " + m));
        }
    }

    /** Sends the hello on a connection made without it; false when it cannot. */
    boolean hello(byte[] hello) {
        return TcpHello.send(ch, hello);
    }

    /**
     * Waits up to {@code timeoutMillis} for rank 0's {@code ok}: 1 accepted, 0 not yet (rank 0 listens from its
     * start but answers once it has arrived), -1 refused (closed: dropped for room, or rank 0 no longer listens).
     *
     * @throws IOException when the listener answers something else: it is not muster's
     */
    int awaitOk(long timeoutMillis) throws IOException {
        // The ok alone: what follows it (beats, the outcome when this task completed the barrier) stays in the
        // socket, where the small waiter reads it if the wait is handed over (WaiterHandOff), else the JVM.
        buf.limit(TcpHello.OK.length);
        int got;
        try {
            got = fill(TcpHello.OK.length, System.nanoTime() + timeoutMillis * 1_000_000L);
        } finally {
            buf.limit(buf.capacity());
        }
        if (got <= 0) {
            return got;
        }
        if (!Arrays.equals(Arrays.copyOf(buf.array(), TcpHello.OK.length), TcpHello.OK)) {
            throw new IOException("the listener is not muster's");
        }
        consume(TcpHello.OK.length);
        return 1;
    }

    /**
     * Waits up to {@code timeoutMillis} for the outcome. Returns it; returns null on timeout (call again); throws
     * {@link IOException} when the connection ended before a complete outcome (rank 0 is gone).
     */
    Outcome await(long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true) {
            int beats = 0;
            while (beats < buf.position() && buf.get(beats) == TcpHello.BEAT[0]) {
                beats++; // rank 0's signs of life before the outcome
            }
            if (beats > 0) {
                consume(beats);
            }
            int end = Outcome.endIn(buf.array(), buf.position());
            Outcome o = end < 0 ? null : Outcome.decode(buf.array(), end, "the TCP release");
            if (o != null) {
                String via = o.data().get(Roster.VIA);
                boolean follows = "tcp".equals(via) || "1".equals(o.data().get(RosterRelay.STREAMED));
                if (o.kind() != Outcome.Kind.RELEASE || !follows) {
                    return o;
                }
                // the roster follows the outcome on the stream (see Roster)
                long want = Long.parseLong(o.data().get(Roster.BYTES));
                if (want > Roster.MAX_BYTES) {
                    throw new IOException("rank 0 announced a roster of " + want + " bytes");
                }
                if (buf.position() >= end + want) {
                    roster = java.util.Arrays.copyOfRange(buf.array(), end, end + (int) want);
                    return o;
                }
                int got = fill(end + (int) want, deadline);
                if (got < 0) {
                    throw new IOException("connection closed after " + buf.position() + " bytes of the roster");
                }
                if (got == 0) {
                    return null;
                }
                continue;
            }
            int got = fill(buf.position() + 1, deadline);
            if (got < 0) {
                throw new IOException("connection closed after " + buf.position() + " bytes of the outcome");
            }
            if (got == 0) {
                return null;
            }
        }
    }

    /** The roster streamed after the release, or null. */
    byte[] roster() {
        return roster;
    }

    /** Reads until {@code want} bytes are buffered: 1 when done, 0 at the deadline, -1 at end of stream. */
    private int fill(int want, long deadline) throws IOException {
        while (buf.position() < want) {
            if (!buf.hasRemaining()) {
                int max = StepFiles.MAX_OUTCOME + Roster.MAX_BYTES;
                if (buf.capacity() >= max) {
                    throw new IOException("the outcome sent by rank 0 is larger than " + max + " bytes");
                }
                ByteBuffer bigger = ByteBuffer.allocate(Math.min(Math.max(buf.capacity() * 4, want), max));
                buf.flip();
                buf = bigger.put(buf);
            }
            int n = ch.read(buf);
            if (n < 0) {
                return -1;
            }
            if (n > 0) {
                heardAt = System.nanoTime();
            }
            if (n == 0 && !waitFor(selector, deadline)) {
                return 0;
            }
        }
        return 1;
    }

    /** Selects until something is ready; false at the deadline. */
    private static boolean waitFor(Selector sel, long deadline) throws IOException {
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return false;
            }
            int n = sel.select(left);
            sel.selectedKeys().clear();
            if (n > 0) {
                return true;
            }
        }
    }

    /**
     * Whether bytes other than rank 0's heartbeats were read past its {@code ok}: the read that took the {@code ok}
     * may have taken the start of the outcome with it, when this task completed the barrier.
     */
    boolean holdsMore() {
        for (int i = 0; i < buf.position(); i++) {
            if (buf.get(i) != TcpHello.BEAT[0]) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether this JVM holds nothing of rank 0's but heartbeats: the last check before the wait is handed over.
     * It reads nothing from the socket: whatever came meanwhile (the release, an abort, the end of the stream) is
     * the small waiter's to read, and the release is then read at once by a process that needs no JVM teardown
     * after it (docs/barrier.md, "The small waiter").
     */
    boolean quiet() {
        return !holdsMore();
    }

    /** When rank 0 last sent anything ({@link System#nanoTime}). */
    long heardAt() {
        return heardAt;
    }

    /** The connection, for the small waiter to find it by its ports ({@link WaiterHandOff#ports}). */
    SocketChannel channel() {
        return ch;
    }

    /** Nanoseconds since rank 0 last sent anything on this connection. */
    long silentNanos() {
        return System.nanoTime() - heardAt;
    }

    /** Tells rank 0 that this task leaves at its own deadline, so that its close is not taken for a death. */
    void bye() {
        try {
            ch.write(ByteBuffer.wrap(TcpHello.BYE));
        } catch (IOException e) {
            // rank 0 is gone as well
        }
    }

    private void consume(int n) {
        buf.flip();
        buf.position(n);
        buf.compact();
    }

    @Override
    public void close() {
        close(ch, selector);
    }

    private static void close(SocketChannel ch, Selector sel) {
        try {
            if (sel != null) {
                sel.close();
            }
        } catch (IOException e) {
            // nothing to do
        }
        try {
            if (ch != null) {
                ch.close();
            }
        } catch (IOException e) {
            // nothing to do
        }
    }
}
