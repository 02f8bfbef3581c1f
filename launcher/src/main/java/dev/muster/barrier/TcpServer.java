package dev.muster.barrier;

import dev.muster.core.Log;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.BitSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rank 0's side of the TCP release path: one thread, one {@link Selector}, no thread per connection.
 *
 * <p>Protocol ({@link TcpHello}): a peer sends its hello; rank 0 answers {@code ok} and keeps the connection;
 * when the outcome is decided it sends the outcome's bytes (those of the outcome file) and closes.
 * A connection that closes after {@code ok} and before the outcome is a lost task.
 *
 * <p>Anybody on the network can connect, so nothing a stranger sends may disturb the barrier: a hello is at most
 * {@link TcpHello#MAX} bytes and must come within {@link TcpHello#TIMEOUT_NANOS}; at most {@link #MAX_PENDING}
 * connections wait unauthenticated (the oldest is dropped for a new one); a wrong token or rank closes the
 * connection. Legitimate peers send their hello right after connecting and retry when dropped.
 */
final class TcpServer implements Closeable {
    static final int MAX_PENDING = 256;

    private final ServerSocketChannel server;
    private final Selector selector;
    private final byte[] token;
    private final int size;
    private final TcpPeers peers;
    /** Unauthenticated connections, oldest first. */
    private final LinkedHashMap<SocketChannel, TcpHello> pending = new LinkedHashMap<>();

    private long refused;
    /** The card each rank sent with its hello (version 2), for the roster. */
    private final byte[][] cards;

    private TcpServer(ServerSocketChannel server, Selector selector, byte[] token, int size) {
        this.server = server;
        this.selector = selector;
        this.token = token.clone();
        this.size = size;
        this.peers = new TcpPeers(size);
        this.cards = new byte[size][];
    }

    /** The card {@code rank} sent with its hello, or null. */
    byte[] card(int rank) {
        return cards[rank];
    }

    /** Listens on an ephemeral port of {@code bind}. */
    static TcpServer open(InetAddress bind, int size, byte[] token) throws IOException {
        ServerSocketChannel server = dev.muster.core.OwnSockets.mark(ServerSocketChannel.open());
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
        return peers.connected();
    }

    /** Ranks that left at their own deadline after saying bye: they arrived. */
    BitSet departed() {
        return peers.departed();
    }

    /** The first authenticated rank whose connection closed, or -1. */
    int lost() {
        return peers.lost();
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
                if (a instanceof TcpHello p) {
                    readHello(ch, p);
                } else {
                    peers.read(ch, (Integer) a);
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
                refuse(drop, "no room for more connections without a hello");
            }
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            TcpHello p = new TcpHello(now);
            pending.put(ch, p);
            ch.register(selector, SelectionKey.OP_READ, p);
            // the hello often came with the connection: read it now rather than after the next select
            readHello(ch, p);
        }
    }

    private void readHello(SocketChannel ch, TcpHello p) {
        int n;
        try {
            n = ch.read(p.bytes);
        } catch (IOException e) {
            n = -1;
        }
        int rank = n < 0 ? TcpHello.BAD : p.parse(size, token);
        if (rank == TcpHello.INCOMPLETE) {
            return;
        }
        pending.remove(ch);
        if (rank == TcpHello.BAD) {
            refuse(ch, n < 0 ? "closed before its hello" : "a bad hello");
        } else if (p.bye()) {
            // hello and bye together: it gave up waiting for rank 0's answer at its own deadline
            Log.debug("rank " + rank + " gave up at its deadline before its hello was answered");
            peers.departedUnanswered(rank);
            closeQuietly(ch);
        } else {
            accept(ch, rank);
            if (p.card() != null && peers.connected().get(rank)) {
                cards[rank] = p.card();
            }
        }
    }

    /** Answers an authenticated hello and keeps the connection as {@code rank}'s. */
    private void accept(SocketChannel ch, int rank) {
        try {
            // 3 bytes into an empty socket buffer: a non-blocking write takes them all
            if (ch.write(ByteBuffer.wrap(TcpHello.OK)) != TcpHello.OK.length) {
                refuse(ch, "rank " + rank + "'s socket cannot take the answer");
                return;
            }
            SelectionKey k = ch.keyFor(selector);
            k.attach(rank);
        } catch (IOException e) {
            refuse(ch, "rank " + rank + ": " + e);
            return;
        }
        peers.add(rank, ch);
        Log.debug(
                "rank " + rank + " connected over TCP (" + peers.connected().cardinality() + " of " + (size - 1) + ")");
    }

    private void expirePending(long now) {
        Iterator<Map.Entry<SocketChannel, TcpHello>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<SocketChannel, TcpHello> e = it.next();
            if (now - e.getValue().since < TcpHello.TIMEOUT_NANOS) {
                break; // oldest first: the rest are younger
            }
            it.remove();
            refuse(e.getKey(), "no hello within " + TcpHello.TIMEOUT_NANOS / 1_000_000L + " ms");
        }
    }

    private void refuse(SocketChannel ch, String why) {
        Log.debug("refused a connection: " + why);
        refused++;
        closeQuietly(ch);
    }

    /** Rank 0's sign of life to the accepted tasks ({@link TcpHello#BEAT}). */
    void beat() {
        peers.beat();
    }

    /**
     * Sends the decided outcome to every connected peer and closes everything. The writes come first, before any
     * other work: each one wakes a waiting task, and on a busy node the woken tasks compete with this loop for the
     * CPU. The outcome is far smaller than a socket buffer, so each non-blocking write completes at once; a peer
     * whose buffer is full (it stopped reading) gets the rest in blocking mode afterwards, which cannot hold rank 0
     * for long.
     */
    void send(byte[] outcome) {
        send(outcome, null, new BitSet());
    }

    /** As {@link #send(byte[])}, but the ranks of {@code toLeaders} get {@code leaderBytes} instead. */
    void send(byte[] outcome, byte[] leaderBytes, BitSet toLeaders) {
        ByteBuffer[] rest = peers.sendAll(outcome, leaderBytes, toLeaders);
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
        peers.sendRest(rest);
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
        peers.closeAll();
    }

    static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
