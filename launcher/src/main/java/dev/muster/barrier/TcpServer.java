package dev.muster.barrier;

import dev.muster.core.Log;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rank 0's side of the TCP release path: one thread, one {@link Selector}, no thread per connection.
 *
 * <p>Protocol: a peer sends {@code muster-hello 1 <rank> <token hex>\n}; rank 0 answers {@code ok\n} and keeps the
 * connection; when the outcome is decided it sends the outcome's bytes (those of the outcome file) and closes.
 * A connection that closes after {@code ok} and before the outcome is a lost task.
 *
 * <p>Anybody on the network can connect, so nothing a stranger sends may disturb the barrier: a hello is at most
 * {@link #HELLO_MAX} bytes and must come within {@link #HELLO_TIMEOUT_NANOS}; at most {@link #MAX_PENDING}
 * connections wait unauthenticated (the oldest is dropped for a new one); a wrong token or rank closes the
 * connection. Legitimate peers send their hello right after connecting and retry when dropped.
 */
final class TcpServer implements Closeable {
    static final int HELLO_MAX = 128;
    static final long HELLO_TIMEOUT_NANOS = 2_000_000_000L;
    static final int MAX_PENDING = 256;
    static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    static final String HELLO = "muster-hello 1 ";
    /** A peer leaving at its own deadline says so first: then its close is no lost task (see TcpBarrier). */
    static final byte[] BYE = "bye\n".getBytes(StandardCharsets.US_ASCII);

    private final ServerSocketChannel server;
    private final Selector selector;
    private final byte[] token;
    private final int size;
    private final SocketChannel[] peers;
    private final BitSet connected;
    /** Peers that said bye (left at their own deadline): arrived, but no longer connected. */
    private final BitSet departed;
    private final boolean[] leaving;
    /** Unauthenticated connections, oldest first. */
    private final LinkedHashMap<SocketChannel, Pending> pending = new LinkedHashMap<>();
    private final ByteBuffer scratch = ByteBuffer.allocate(256);
    private int lost = -1;
    /** The rank whose hello came last: usually the task whose arrival completes the barrier. */
    private int newest = -1;
    private long refused;

    private static final class Pending {
        final long since;
        final ByteBuffer hello = ByteBuffer.allocate(HELLO_MAX);

        Pending(long since) {
            this.since = since;
        }
    }

    private TcpServer(ServerSocketChannel server, Selector selector, byte[] token, int size) {
        this.server = server;
        this.selector = selector;
        this.token = token.clone();
        this.size = size;
        this.peers = new SocketChannel[size];
        this.connected = new BitSet(size);
        this.departed = new BitSet(size);
        this.leaving = new boolean[size];
    }

    /** Listens on an ephemeral port of {@code bind}. */
    static TcpServer open(InetAddress bind, int size, byte[] token) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        Selector selector = null;
        try {
            // the backlog covers a whole step connecting at once; the kernel caps it at net.core.somaxconn
            server.bind(new InetSocketAddress(bind, 0), Math.max(128, Math.min(size + MAX_PENDING, 65535)));
            server.configureBlocking(false);
            selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            return new TcpServer(server, selector, token, size);
        } catch (IOException | RuntimeException e) {
            server.close();
            if (selector != null) {
                selector.close();
            }
            throw e;
        }
    }

    int port() {
        return server.socket().getLocalPort();
    }

    /** Ranks authenticated so far (rank 0 itself is not among them). */
    BitSet connected() {
        return connected;
    }

    /** Ranks that left at their own deadline after saying bye: they arrived. */
    BitSet departed() {
        return departed;
    }

    /** The first authenticated rank whose connection closed, or -1. */
    int lost() {
        return lost;
    }

    /** Connections refused so far (wrong token, bad hello, too slow, dropped for room). */
    long refused() {
        return refused;
    }

    /** Handles network events for up to {@code timeoutNanos} (0: only what is ready now). */
    void poll(long timeoutNanos, long now) throws IOException {
        long ms = timeoutNanos / 1_000_000L;
        if (ms <= 0) {
            selector.selectNow();
        } else {
            selector.select(ms);
        }
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey k = it.next();
            it.remove();
            if (!k.isValid()) {
                continue;
            }
            if (k.isAcceptable()) {
                acceptAll(now);
            } else if (k.isReadable()) {
                SocketChannel ch = (SocketChannel) k.channel();
                Object a = k.attachment();
                if (a instanceof Pending p) {
                    readHello(ch, p);
                } else {
                    readPeer(ch, (Integer) a);
                }
            }
        }
        expirePending(now);
    }

    private void acceptAll(long now) throws IOException {
        // bounded per round so that a flood cannot starve the reads of peers already connected
        for (int i = 0; i < 1024; i++) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                Log.debug("accept: " + e); // e.g. EMFILE: the peer will retry or fall back to files
                return;
            }
            if (ch == null) {
                return;
            }
            if (pending.size() >= MAX_PENDING) {
                Iterator<SocketChannel> oldest = pending.keySet().iterator();
                SocketChannel drop = oldest.next();
                oldest.remove();
                refuse(drop);
            }
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Pending p = new Pending(now);
            pending.put(ch, p);
            ch.register(selector, SelectionKey.OP_READ, p);
            // the hello often came with the connection: read it now rather than after the next select
            readHello(ch, p);
        }
    }

    private void readHello(SocketChannel ch, Pending p) {
        int n;
        try {
            n = ch.read(p.hello);
        } catch (IOException e) {
            n = -1;
        }
        if (n < 0) {
            pending.remove(ch);
            refuse(ch);
            return;
        }
        ByteBuffer b = p.hello;
        int nl = -1;
        for (int i = 0; i < b.position(); i++) {
            if (b.get(i) == '\n') {
                nl = i;
                break;
            }
        }
        if (nl < 0) {
            if (!b.hasRemaining()) {
                pending.remove(ch);
                refuse(ch);
            }
            return;
        }
        pending.remove(ch);
        int rank = authenticate(new String(b.array(), 0, nl, StandardCharsets.US_ASCII));
        int rest = b.position() - nl - 1;
        boolean bye = rest == BYE.length && java.util.Arrays.equals(java.util.Arrays.copyOfRange(b.array(), nl + 1,
                b.position()), BYE);
        if (rank < 0 || (rest != 0 && !bye)) {
            refuse(ch);
            return;
        }
        if (bye) {
            // hello and bye together: it gave up waiting for rank 0's answer at its own deadline
            departed.set(rank);
            closeQuietly(ch);
            return;
        }
        try {
            // 3 bytes into an empty socket buffer: a non-blocking write takes them all
            if (ch.write(ByteBuffer.wrap(OK)) != OK.length) {
                refuse(ch);
                return;
            }
            SelectionKey k = ch.keyFor(selector);
            k.attach(rank);
        } catch (IOException e) {
            refuse(ch);
            return;
        }
        SocketChannel old = peers[rank];
        peers[rank] = ch;
        connected.set(rank);
        newest = rank;
        if (old != null) {
            closeQuietly(old); // the same task reconnected after a drop it saw first
        }
    }

    /** The rank a hello line authenticates, or -1. */
    private int authenticate(String line) {
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

    private void readPeer(SocketChannel ch, int rank) {
        int n;
        do {
            try {
                scratch.clear();
                n = ch.read(scratch);
            } catch (IOException e) {
                n = -1;
            }
            if (n > 0 && scratch.get(0) == BYE[0]) {
                leaving[rank] = true;
            }
            // a peer sends nothing else after its hello; whatever comes is read and dropped, so that a close is
            // never turned into a reset by unread data
        } while (n > 0);
        if (n < 0) {
            closeQuietly(ch);
            if (peers[rank] == ch) {
                peers[rank] = null;
                connected.clear(rank);
                if (leaving[rank]) {
                    departed.set(rank);
                } else if (lost < 0) {
                    lost = rank;
                }
            }
        }
    }

    private void expirePending(long now) {
        Iterator<Map.Entry<SocketChannel, Pending>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<SocketChannel, Pending> e = it.next();
            if (now - e.getValue().since < HELLO_TIMEOUT_NANOS) {
                break; // oldest first: the rest are younger
            }
            it.remove();
            refuse(e.getKey());
        }
    }

    private void refuse(SocketChannel ch) {
        refused++;
        closeQuietly(ch);
    }

    /**
     * Sends the decided outcome to every connected peer and closes everything. The writes come first, before any
     * other work: each one wakes a waiting task, and on a busy node the woken tasks compete with this loop for the
     * CPU. The outcome is far smaller than a socket buffer, so each non-blocking write completes at once; a peer
     * whose buffer is full (it stopped reading) gets the rest in blocking mode afterwards, which cannot hold rank 0
     * for long.
     */
    void send(byte[] outcome) {
        ByteBuffer[] rest = null;
        // The task that connected last goes first: it is usually the one whose arrival completed the barrier, a
        // JVM that has only just started. Woken last, it would wait behind the exec of every task woken before
        // it; on a node with more tasks than cores that cost the last task hundreds of milliseconds.
        for (int i = -1; i < size; i++) {
            int r = i < 0 ? newest : i;
            if (r < 0 || (i >= 0 && r == newest)) {
                continue;
            }
            SocketChannel ch = peers[r];
            if (ch == null) {
                continue;
            }
            ByteBuffer buf = ByteBuffer.wrap(outcome);
            try {
                ch.write(buf);
            } catch (ClosedChannelException e) {
                continue; // gone since: it learns the outcome from the file
            } catch (IOException e) {
                Log.debug("sending the outcome to rank " + r + ": " + e);
                continue;
            }
            if (buf.hasRemaining()) {
                if (rest == null) {
                    rest = new ByteBuffer[size];
                }
                rest[r] = buf;
            }
        }
        try {
            selector.close(); // deregisters every channel, so that they can be switched to blocking mode
        } catch (IOException e) {
            Log.debug("closing the selector: " + e);
        }
        closeQuietly(server);
        for (SocketChannel ch : pending.keySet()) {
            closeQuietly(ch);
        }
        pending.clear();
        for (int r = 0; rest != null && r < size; r++) {
            if (rest[r] == null) {
                continue;
            }
            try {
                peers[r].configureBlocking(true);
                while (rest[r].hasRemaining()) {
                    peers[r].write(rest[r]);
                }
            } catch (IOException e) {
                Log.debug("sending the outcome to rank " + r + ": " + e);
            }
        }
        close();
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException e) {
            // closing anyway
        }
        closeQuietly(server);
        for (SocketChannel ch : pending.keySet()) {
            closeQuietly(ch);
        }
        pending.clear();
        for (int r = 0; r < size; r++) {
            if (peers[r] != null) {
                closeQuietly(peers[r]);
                peers[r] = null;
            }
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
