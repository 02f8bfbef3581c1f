package dev.muster.barrier;

import dev.muster.core.Log;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.BitSet;

/**
 * Rank 0's authenticated connections, one per rank: who is connected, who left at its own deadline after saying
 * bye, who was lost (closed without bye before the release), and the delivery of the outcome to all of them.
 */
final class TcpPeers {
    private final int size;
    private final SocketChannel[] peers;
    private final BitSet connected;
    /** Peers that said bye (left at their own deadline): arrived, but no longer connected. */
    private final BitSet departed;

    private final boolean[] leaving;
    private int lost = -1;
    private final ByteBuffer scratch = ByteBuffer.allocate(256);
    /** The rank whose hello came last: usually the task whose arrival completes the barrier. */
    private int newest = -1;

    TcpPeers(int size) {
        this.size = size;
        this.peers = new SocketChannel[size];
        this.connected = new BitSet(size);
        this.departed = new BitSet(size);
        this.leaving = new boolean[size];
    }

    BitSet connected() {
        return connected;
    }

    BitSet departed() {
        return departed;
    }

    int lost() {
        return lost;
    }

    /** {@code ch} is {@code rank}'s connection from now on. */
    void add(int rank, SocketChannel ch) {
        SocketChannel old = peers[rank];
        peers[rank] = ch;
        connected.set(rank);
        newest = rank;
        if (old != null) {
            TcpServer.closeQuietly(old); // the same task reconnected after a drop it saw first
        }
    }

    /** {@code rank} said bye: its close that follows is no lost task. */
    void leaving(int rank) {
        leaving[rank] = true;
    }

    /** Reads what {@code rank} sent after its hello: a bye, or the close of its connection. */
    void read(SocketChannel ch, int rank) {
        int n;
        do {
            try {
                scratch.clear();
                n = ch.read(scratch);
            } catch (IOException e) {
                n = -1;
            }
            if (n > 0 && scratch.get(0) == TcpHello.BYE[0]) {
                leaving(rank);
            }
            // a peer sends nothing else after its hello; whatever comes is read and dropped, so that a close is
            // never turned into a reset by unread data
        } while (n > 0);
        if (n < 0) {
            closed(rank, ch);
        }
    }

    /** {@code rank} gave up at its own deadline without ever being answered: it arrived. */
    void departedUnanswered(int rank) {
        departed.set(rank);
    }

    /** {@code rank}'s connection {@code ch} closed. */
    void closed(int rank, SocketChannel ch) {
        TcpServer.closeQuietly(ch);
        if (peers[rank] == ch) {
            peers[rank] = null;
            connected.clear(rank);
            Log.debug("rank " + rank + "'s connection closed" + (leaving[rank] ? " after its bye" : ""));
            if (leaving[rank]) {
                departed.set(rank);
            } else if (lost < 0) {
                lost = rank;
            }
        }
    }

    /**
     * Writes the outcome to every peer without blocking; returns what is left to write per rank (null when all
     * went out). The task that connected last goes first: it is usually the one whose arrival completed the
     * barrier, a JVM that has only just started. Woken last, it would wait behind the exec of every task woken
     * before it; on a node with more tasks than cores that cost the last task hundreds of milliseconds.
     */
    ByteBuffer[] sendAll(byte[] outcome, byte[] leaderBytes, BitSet toLeaders) {
        ByteBuffer[] rest = null;
        for (int i = -1; i < size; i++) {
            int r = i < 0 ? newest : i;
            if (r < 0 || (i >= 0 && r == newest)) {
                continue;
            }
            SocketChannel ch = peers[r];
            if (ch == null) {
                continue;
            }
            ByteBuffer buf = ByteBuffer.wrap(toLeaders.get(r) ? leaderBytes : outcome);
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
        return rest;
    }

    /** Sends {@link TcpHello#BEAT} to every peer; a peer whose socket buffer is full is skipped this time. */
    void beat() {
        for (int r = 0; r < size; r++) {
            SocketChannel ch = peers[r];
            if (ch != null) {
                try {
                    ch.write(ByteBuffer.wrap(TcpHello.BEAT));
                } catch (IOException e) {
                    // its close shows in the next poll
                }
            }
        }
    }

    /** Writes what {@link #sendAll} left, in blocking mode (the channels must be deregistered by then). */
    void sendRest(ByteBuffer[] rest) {
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
    }

    void closeAll() {
        for (int r = 0; r < size; r++) {
            if (peers[r] != null) {
                TcpServer.closeQuietly(peers[r]);
                peers[r] = null;
            }
        }
    }
}
