package dev.muster.barrier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rank 0's listener ({@link TcpServer} and its {@link TcpPeers}) against scripted peers: this test's own sockets
 * on 127.0.0.1 send hellos good and bad, byes and closes, and read what rank 0 answers. The time the listener is
 * given ({@link #now}) is the test's, so the hello timeout is reached without waiting for it.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpServerTest {
    private static final int SIZE = 4;
    private static final byte[] TOKEN = HexFormatToken.of(0x5a);

    private TcpServer server;
    private final List<Socket> sockets = new ArrayList<>();
    /** The time each poll is given; a new connection's hello timeout counts from the poll that accepted it. */
    private long now = 50_000_000_000L;

    /** A token of recognisable bytes. */
    private static final class HexFormatToken {
        static byte[] of(int seed) {
            byte[] t = new byte[TcpEndpoint.TOKEN_BYTES];
            for (int i = 0; i < t.length; i++) {
                t[i] = (byte) (seed + i);
            }
            return t;
        }
    }

    @BeforeEach
    void open() throws IOException {
        server = TcpServer.open(InetAddress.getLoopbackAddress(), SIZE, TOKEN);
    }

    @AfterEach
    void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port());
        s.setSoTimeout(10_000);
        sockets.add(s);
        return s;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] hello(int rank) {
        return TcpHello.of(rank, TOKEN, null);
    }

    /** Lets the listener handle what comes until {@code done} holds. */
    private void pollUntil(Callable<Boolean> done) {
        await().atMost(Duration.ofSeconds(10)).pollInSameThread().until(() -> {
            server.poll(10_000_000L, now);
            return done.call();
        });
    }

    /** A peer that said its hello as {@code rank} and got rank 0's ok. */
    private Socket accepted(int rank) throws IOException {
        Socket s = connect();
        ScriptedRank0.send(s, hello(rank));
        pollUntil(() -> server.connected().get(rank));
        assertArrayEquals(TcpHello.OK, s.getInputStream().readNBytes(TcpHello.OK.length), "rank 0's answer");
        return s;
    }

    /** Whether rank 0 closed {@code s} (the read sees the end of the stream, nothing before it). */
    private static boolean closedByRank0(Socket s) throws IOException {
        return s.getInputStream().read() == -1;
    }

    private static BitSet ranks(int... rs) {
        BitSet b = new BitSet();
        for (int r : rs) {
            b.set(r);
        }
        return b;
    }

    @Test
    void helloWithTheToken_isAnsweredOk_andItsRankCountsAsConnected() throws IOException {
        accepted(2);
        assertEquals(ranks(2), server.connected());
        assertEquals(0, server.refused());
        assertEquals(-1, server.lost());
        assertNull(server.card(2), "a version 1 hello carries no card");
    }

    static Stream<byte[]> badHellos() {
        String hex = java.util.HexFormat.of().formatHex(TOKEN);
        return Stream.of(
                TcpHello.of(1, HexFormatToken.of(0x11), null), // a wrong token
                ascii("muster-hello 1 0 " + hex + "\n"), // rank 0 is the listener itself
                ascii("muster-hello 1 " + SIZE + " " + hex + "\n"), // no such rank
                ascii("GET / HTTP/1.0\r\n\r\n"),
                new byte[TcpHello.MAX_LINE]); // a full line's worth without its end
    }

    @ParameterizedTest
    @MethodSource("badHellos")
    void badHello_isRefusedAndClosed_withoutAnAnswer(byte[] hello) throws IOException {
        Socket s = connect();
        ScriptedRank0.send(s, hello);
        pollUntil(() -> server.refused() == 1);
        assertTrue(closedByRank0(s), "closed without an answer");
        assertTrue(server.connected().isEmpty());
        assertEquals(-1, server.lost(), "a stranger is no lost task");
    }

    @Test
    void connectionClosedBeforeItsHello_isRefused() throws IOException {
        connect().close();
        pollUntil(() -> server.refused() == 1);
        assertTrue(server.connected().isEmpty());
    }

    @Test
    void helloInPieces_isAnsweredOnceComplete() throws IOException {
        Socket slow = connect();
        byte[] h = hello(1);
        ScriptedRank0.send(slow, java.util.Arrays.copyOf(h, 10));
        // rank 2's connection came after the first piece: once it is answered, the first was accepted and read
        accepted(2);
        ScriptedRank0.send(slow, java.util.Arrays.copyOfRange(h, 10, h.length));
        pollUntil(() -> server.connected().get(1));
        assertArrayEquals(TcpHello.OK, slow.getInputStream().readNBytes(TcpHello.OK.length));
        assertEquals(0, server.refused());
    }

    @Test
    void noHelloWithinTheTimeout_isRefusedAndClosed_notAMomentEarlier() throws IOException {
        Socket silent = connect();
        accepted(2); // connected after the silent one: both were accepted at the same time
        now += TcpHello.TIMEOUT_NANOS - 1;
        server.poll(0, now);
        assertEquals(0, server.refused(), "still within its time for a hello");
        now += 1;
        server.poll(0, now);
        assertEquals(1, server.refused());
        server.poll(0, now);
        assertEquals(1, server.refused(), "refused once, not again at every poll");
        assertTrue(closedByRank0(silent));
        assertEquals(ranks(2), server.connected(), "an answered peer has no hello timeout");
    }

    @Test
    void morePendingThanMaxPending_theOldestAreDroppedForTheNew() throws IOException {
        List<Socket> silent = new ArrayList<>();
        for (int i = 0; i <= TcpServer.MAX_PENDING; i++) {
            silent.add(connect());
            server.poll(0, now);
        }
        // this one takes the room of another: MAX_PENDING + 2 connections without a hello, so two had to go
        accepted(3);
        assertEquals(2, server.refused());
        assertTrue(closedByRank0(silent.get(0)), "the oldest was dropped");
        assertTrue(closedByRank0(silent.get(1)), "and the next oldest");
        // the third oldest still has its place: its hello is answered
        ScriptedRank0.send(silent.get(2), hello(1));
        pollUntil(() -> server.connected().get(1));
        assertArrayEquals(TcpHello.OK, silent.get(2).getInputStream().readNBytes(TcpHello.OK.length));
    }

    @Test
    void helloWithBye_gaveUpUnanswered_countsAsDeparted_andIsClosed() throws IOException {
        Socket s = connect();
        byte[] h = hello(1);
        byte[] both = java.util.Arrays.copyOf(h, h.length + TcpHello.BYE.length);
        System.arraycopy(TcpHello.BYE, 0, both, h.length, TcpHello.BYE.length);
        ScriptedRank0.send(s, both);
        pollUntil(() -> server.departed().get(1));
        assertTrue(closedByRank0(s), "closed without an ok");
        assertTrue(server.connected().isEmpty());
        assertEquals(0, server.refused(), "it arrived: no stranger");
        assertEquals(-1, server.lost());
    }

    @Test
    void byeAfterTheOk_thenClose_isDeparted_notLost() throws IOException {
        Socket one = accepted(1);
        ScriptedRank0.send(one, TcpHello.BYE);
        one.close();
        pollUntil(() -> !server.connected().get(1));
        assertEquals(ranks(1), server.departed());
        assertEquals(-1, server.lost());
    }

    @Test
    void closeAfterTheOk_withoutBye_isTheFirstLostRank() throws IOException {
        Socket one = accepted(1);
        Socket two = accepted(2);
        ScriptedRank0.send(two, ascii("x\n")); // anything but a bye is read and dropped
        two.close();
        pollUntil(() -> server.lost() >= 0);
        assertEquals(2, server.lost());
        assertEquals(ranks(1), server.connected());
        assertTrue(server.departed().isEmpty());
        one.close();
        pollUntil(() -> server.connected().isEmpty());
        assertEquals(2, server.lost(), "the first lost rank is the one named");
    }

    @Test
    void bytesOtherThanBye_areReadAndDropped_andTheConnectionStays() throws IOException {
        Socket one = accepted(1);
        ScriptedRank0.send(one, ascii("x\n"));
        accepted(2); // rank 1's bytes came first: usually read in the same round, and never held rank 2 up
        assertEquals(ranks(1, 2), server.connected());
        assertEquals(-1, server.lost());
        one.close();
        pollUntil(() -> server.lost() >= 0);
        assertEquals(1, server.lost(), "no bye: a lost task");
        assertTrue(server.departed().isEmpty());
    }

    @Test
    void sameRankConnectsAgain_theOldConnectionIsClosed_andOnlyTheNewOnesCloseIsALoss() throws IOException {
        Socket first = accepted(1);
        Socket again = accepted(1);
        assertTrue(closedByRank0(first), "the connection it left behind");
        assertEquals(ranks(1), server.connected());
        assertEquals(-1, server.lost());
        again.close();
        pollUntil(() -> server.lost() == 1);
    }

    @Test
    void versionTwoHello_keepsTheCardForTheRoster() throws IOException {
        byte[] card = ascii("{\"host\":\"n1\"}");
        Socket s = connect();
        ScriptedRank0.send(s, TcpHello.of(3, TOKEN, card));
        pollUntil(() -> server.connected().get(3));
        assertArrayEquals(TcpHello.OK, s.getInputStream().readNBytes(TcpHello.OK.length));
        assertArrayEquals(card, server.card(3));
        assertNull(server.card(1));
    }

    @Test
    void beat_sendsOneEmptyLineToEveryConnectedPeer() throws IOException {
        Socket one = accepted(1);
        Socket two = accepted(2);
        server.beat();
        assertArrayEquals(TcpHello.BEAT, one.getInputStream().readNBytes(TcpHello.BEAT.length));
        assertArrayEquals(TcpHello.BEAT, two.getInputStream().readNBytes(TcpHello.BEAT.length));
    }

    @Test
    void send_everyPeerGetsTheOutcomeOnce_theLeadersTheirBytes_andEverythingCloses() throws IOException {
        Socket one = accepted(1);
        Socket two = accepted(2);
        Socket stranger = connect();
        Socket three = accepted(3); // connected after the stranger: that one waits for its hello by now
        byte[] outcome =
                Outcome.release(0, java.util.Map.of("master_addr", "n0")).encode();
        byte[] leader = ascii("leader's copy\n");
        server.send(outcome, leader, ranks(2));
        assertArrayEquals(outcome, one.getInputStream().readAllBytes(), "the outcome, then the end");
        assertArrayEquals(leader, two.getInputStream().readAllBytes());
        assertArrayEquals(outcome, three.getInputStream().readAllBytes(), "the newest peer: sent once, first");
        assertTrue(closedByRank0(stranger), "a connection without a hello is closed");
        assertThrows(IOException.class, this::connect, "rank 0 listens no more");
    }

    @Test
    void send_moreThanTheSocketBuffersHold_reachesEveryPeerWhole() throws Exception {
        Socket one = accepted(1);
        Socket two = accepted(2);
        byte[] outcome = new byte[32 << 20]; // a streamed roster can be this large
        new Random(7).nextBytes(outcome);
        // a reader thread per peer (not a shared pool, which on two cores runs one reader at a time)
        ExecutorService readers = Executors.newFixedThreadPool(2);
        try {
            List<Future<byte[]>> reads = new ArrayList<>();
            for (Socket s : List.of(one, two)) {
                InputStream in = s.getInputStream();
                reads.add(readers.submit(in::readAllBytes));
            }
            server.send(outcome);
            for (Future<byte[]> r : reads) {
                assertArrayEquals(outcome, r.get(20, TimeUnit.SECONDS));
            }
        } finally {
            readers.shutdownNow();
        }
    }

    @Test
    void close_closesPeersAndConnectionsStillWithoutAHello() throws IOException {
        Socket stranger = connect();
        Socket one = accepted(1); // connected after the stranger: that one waits for its hello by now
        server.close();
        assertTrue(closedByRank0(one));
        assertTrue(closedByRank0(stranger));
        assertThrows(IOException.class, this::connect, "rank 0 listens no more");
    }

    @Test
    void open_onAnAddressOfNoInterfaceHere_failsWithTheIOException() {
        // TEST-NET-1: not an address of this machine, so bind() fails; what is opened by then is closed again
        assertThrows(IOException.class, () -> TcpServer.open(InetAddress.getByName("192.0.2.1"), SIZE, TOKEN));
    }
}
