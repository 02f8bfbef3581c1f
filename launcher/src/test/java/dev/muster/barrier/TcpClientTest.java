package dev.muster.barrier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A task's side of one TCP connection, against this test in rank 0's place on loopback. */
@Timeout(30)
class TcpClientTest {
    /**
     * The last task to arrive gets rank 0's ok and the release right behind it, here in one write: the ok is read
     * alone, so the JVM still hands its wait to the small waiter (quiet), and the release stays in the socket for
     * whoever reads next (docs/barrier.md, "The small waiter").
     */
    @Test
    @Timeout(30)
    void okWithTheReleaseRightBehindIt_theOkIsReadAlone_andTheReleaseStaysInTheSocket() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            TcpEndpoint ep =
                    TcpEndpoint.listening("127.0.0.1", server.getLocalPort(), new byte[TcpEndpoint.TOKEN_BYTES]);
            TcpClient.Attempt a = TcpClient.connect(ep, 3, 5_000);
            assertEquals(TcpClient.State.CONNECTED, a.state(), a.problem());
            try (TcpClient c = a.client();
                    Socket zero = server.accept()) {
                byte[] release = Outcome.release(0, Map.of("master_addr", "n1")).encode();
                byte[] okAndRelease = new byte[TcpHello.OK.length + 1 + release.length];
                System.arraycopy(TcpHello.OK, 0, okAndRelease, 0, TcpHello.OK.length);
                okAndRelease[TcpHello.OK.length] = '\n'; // a heartbeat in between
                System.arraycopy(release, 0, okAndRelease, TcpHello.OK.length + 1, release.length);
                OutputStream out = zero.getOutputStream();
                out.write(okAndRelease);
                out.flush();
                assertEquals(1, c.awaitOk(10_000));
                assertFalse(c.holdsMore(), "nothing but the ok read");
                assertTrue(c.quiet(), "the wait may still be handed over");
                Outcome o = c.await(10_000);
                assertNotNull(o, "the release, read from the socket afterwards");
                assertEquals(Outcome.Kind.RELEASE, o.kind());
                assertEquals("n1", o.data().get("master_addr"));
                assertEquals(
                        "muster-hello", new String(zero.getInputStream().readNBytes(12), StandardCharsets.US_ASCII));
            }
        }
    }

    /** A task connected to {@code zero} (as rank 1, without a card), and rank 0's end after reading its hello. */
    private record Link(TcpClient task, Socket zero) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            task.close();
            zero.close();
        }
    }

    private static Link link(ScriptedRank0 zero) throws IOException {
        TcpClient.Attempt a = TcpClient.connect(zero.endpoint(), 1, 5_000);
        assertEquals(TcpClient.State.CONNECTED, a.state(), a.problem());
        Socket s = zero.accept();
        assertEquals(ScriptedRank0.hello(1), ScriptedRank0.readLine(s));
        return new Link(a.client(), s);
    }

    /** A release whose roster of {@code roster.length} bytes follows it on the stream. */
    private static byte[] releaseWithRoster(byte[] roster) {
        Map<String, String> d = new HashMap<>();
        d.put(Roster.VIA, "tcp");
        d.put(Roster.BYTES, Integer.toString(roster.length));
        return Outcome.release(0, d).encode();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void awaitOk_nothingOrAPartialOk_isNotYet_andTheRestOfTheOkAccepts() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            assertEquals(0, l.task().awaitOk(20), "rank 0 has not answered");
            assertEquals(0, l.task().awaitOk(1), "less than a millisecond left at the first select: no wait");
            ScriptedRank0.send(l.zero(), "o");
            assertEquals(0, l.task().awaitOk(20), "half an ok is no ok");
            ScriptedRank0.send(l.zero(), "k\n");
            assertEquals(1, l.task().awaitOk(10_000));
            assertFalse(l.task().holdsMore());
        }
    }

    @Test
    void awaitOk_closedBeforeTheOk_isRefused() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            l.zero().close();
            assertEquals(-1, l.task().awaitOk(10_000));
        }
    }

    @Test
    void awaitOk_anythingButOk_isAListenerThatIsNotMusters() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            ScriptedRank0.send(l.zero(), "HTTP/1.1 400 Bad Request\r\n");
            IOException e = assertThrows(IOException.class, () -> l.task().awaitOk(10_000));
            assertEquals("the listener is not muster's", e.getMessage());
        }
    }

    @Test
    void await_beatsAndAnOutcomeInPieces_skipsTheBeats_andDecodesTheOutcomeOnceComplete() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            TcpClient c = l.task();
            ScriptedRank0.send(l.zero(), "ok\n");
            assertEquals(1, c.awaitOk(10_000));
            ScriptedRank0.send(l.zero(), "\n\n");
            assertNull(c.await(20), "beats alone: no outcome yet");
            assertTrue(c.quiet(), "only beats were read");
            byte[] release = ScriptedRank0.release();
            int half = 5; // "muste": no newline in it, nothing a beat could be taken for
            ScriptedRank0.send(l.zero(), concat(TcpHello.BEAT, Arrays.copyOf(release, half)));
            assertNull(c.await(20), "half an outcome is none");
            assertTrue(c.holdsMore(), "the start of the outcome is held");
            assertFalse(c.quiet(), "the wait can no longer be handed over: the small waiter would miss that part");
            ScriptedRank0.send(l.zero(), Arrays.copyOfRange(release, half, release.length));
            Outcome o = c.await(10_000);
            assertNotNull(o);
            assertEquals(Outcome.Kind.RELEASE, o.kind());
            assertEquals("n1", o.data().get("master_addr"));
            assertNull(c.roster(), "no roster announced");
        }
    }

    @Test
    void await_nothing_returnsNullOnlyOnceItsTimeoutHasPassed() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            ScriptedRank0.send(l.zero(), "ok\n");
            assertEquals(1, l.task().awaitOk(10_000));
            long heard = l.task().heardAt();
            assertNull(l.task().await(1), "less than a millisecond left at the first select: no wait");
            long start = System.nanoTime();
            assertNull(l.task().await(100));
            assertEquals(heard, l.task().heardAt(), "reads that found nothing are no sign of life");
            // the selects count whole milliseconds: the last one left out may be up to 1 ms short
            assertTrue(System.nanoTime() - start >= 99_000_000L, "returned before its timeout");
        }
    }

    @Test
    void await_closeInTheMiddleOfTheOutcome_isRank0Gone_sayingHowFarItCame() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            ScriptedRank0.send(
                    l.zero(),
                    concat(
                            "ok\n".getBytes(StandardCharsets.US_ASCII),
                            "muster-out".getBytes(StandardCharsets.US_ASCII)));
            assertEquals(1, l.task().awaitOk(10_000));
            l.zero().close();
            IOException e = assertThrows(IOException.class, () -> l.task().await(10_000));
            assertEquals("connection closed after 10 bytes of the outcome", e.getMessage());
        }
    }

    @Test
    void await_anOutcomeLargerThanTheFirstBuffer_isRead() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            String big = "x".repeat(5_000);
            byte[] release = Outcome.release(0, Map.of("big", big)).encode();
            ScriptedRank0.send(l.zero(), concat(TcpHello.OK, release));
            assertEquals(1, l.task().awaitOk(10_000));
            Outcome o = l.task().await(10_000);
            assertNotNull(o);
            assertEquals(big, o.data().get("big"));
        }
    }

    @Test
    void await_rosterStreamedAfterTheRelease_inPieces_isReturnedWithIt() throws Exception {
        byte[] roster = new byte[3_000];
        for (int i = 0; i < roster.length; i++) {
            roster[i] = (byte) ('a' + i % 26);
        }
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            TcpClient c = l.task();
            byte[] release = releaseWithRoster(roster);
            ScriptedRank0.send(l.zero(), concat(TcpHello.OK, concat(release, Arrays.copyOf(roster, 1_000))));
            assertEquals(1, c.awaitOk(10_000));
            assertNull(c.await(20), "the release is held until its roster is complete");
            ScriptedRank0.send(l.zero(), Arrays.copyOfRange(roster, 1_000, roster.length));
            Outcome o = c.await(10_000);
            assertNotNull(o);
            assertEquals(Outcome.Kind.RELEASE, o.kind());
            assertArrayEquals(roster, c.roster());
        }
    }

    @Test
    void await_rosterCutByAClose_isRank0Gone_sayingHowFarItCame() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            byte[] release = releaseWithRoster(new byte[100]);
            ScriptedRank0.send(l.zero(), concat(TcpHello.OK, concat(release, new byte[40])));
            assertEquals(1, l.task().awaitOk(10_000));
            l.zero().close();
            IOException e = assertThrows(IOException.class, () -> l.task().await(10_000));
            assertEquals("connection closed after " + (release.length + 40) + " bytes of the roster", e.getMessage());
        }
    }

    @Test
    void await_rosterAnnouncedAboveTheLimit_isRefused_upToTheLimitItIsAwaited() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            Map<String, String> d = new HashMap<>();
            d.put(Roster.VIA, "tcp");
            d.put(Roster.BYTES, Integer.toString(Roster.MAX_BYTES));
            ScriptedRank0.send(
                    l.zero(), concat(TcpHello.OK, Outcome.release(0, d).encode()));
            assertEquals(1, l.task().awaitOk(10_000));
            assertNull(l.task().await(20), "the largest roster allowed: awaited");
        }
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            Map<String, String> d = new HashMap<>();
            d.put(RosterRelay.STREAMED, "1");
            d.put(Roster.BYTES, Integer.toString(Roster.MAX_BYTES + 1));
            ScriptedRank0.send(
                    l.zero(), concat(TcpHello.OK, Outcome.release(0, d).encode()));
            assertEquals(1, l.task().awaitOk(10_000));
            IOException e = assertThrows(IOException.class, () -> l.task().await(10_000));
            assertEquals("rank 0 announced a roster of " + (Roster.MAX_BYTES + 1) + " bytes", e.getMessage());
        }
    }

    @Test
    void afterTheOk_heardAtIsWhenItCame_andTheChannelIsThisConnection() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            TcpClient c = l.task();
            long sent = System.nanoTime();
            ScriptedRank0.send(l.zero(), "ok\n");
            assertEquals(1, c.awaitOk(10_000));
            long read = System.nanoTime();
            assertTrue(c.heardAt() >= sent && c.heardAt() <= read, "heard between the send and the return");
            long before = System.nanoTime();
            long silent = c.silentNanos();
            long after = System.nanoTime();
            assertTrue(silent >= before - c.heardAt() && silent <= after - c.heardAt(), "silent " + silent);
            assertTrue(silent > 0, "some time passed since the ok");
            InetSocketAddress local = (InetSocketAddress) c.channel().getLocalAddress();
            assertEquals(l.zero().getPort(), local.getPort(), "the channel is the connection rank 0 accepted");
        }
    }

    @Test
    void bye_isALineAfterTheHello_andCloseEndsTheStream() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            l.task().bye();
            l.task().close();
            assertEquals("bye\n", ScriptedRank0.rest(l.zero()));
            l.task().bye(); // on a closed connection: nothing to say, and no failure
        }
    }

    @Test
    void connect_nobodyListening_isUnreachable_namingTheError() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        TcpClient.Attempt a =
                TcpClient.connect(TcpEndpoint.listening("127.0.0.1", dead, ScriptedRank0.TOKEN), 1, 5_000);
        assertEquals(TcpClient.State.UNREACHABLE, a.state());
        assertNull(a.client());
        assertEquals("ConnectException: Connection refused", a.problem());
    }

    /**
     * A listener whose backlog is full drops the connection's SYN, as a firewall that drops does: no answer at all
     * within the timeout is "unreachable", after the whole timeout.
     */
    @Test
    void connect_noAnswerWithinTheTimeout_isUnreachable_afterTheTimeout() throws Exception {
        try (ScriptedRank0 zero = new ScriptedRank0(1)) {
            List<Socket> queued = fillBacklog(zero);
            try {
                long start = System.nanoTime();
                TcpClient.Attempt a = TcpClient.connect(zero.endpoint(), 1, 100);
                long took = System.nanoTime() - start;
                assertEquals(TcpClient.State.UNREACHABLE, a.state());
                assertEquals("no connection within 100 ms", a.problem());
                assertTrue(took >= 99_000_000L, "gave up after " + took + " ns"); // whole milliseconds, see above
            } finally {
                for (Socket s : queued) {
                    s.close();
                }
            }
        }
    }

    /** Connections that fill {@code zero}'s accept queue, until the next one gets no answer. */
    static List<Socket> fillBacklog(ScriptedRank0 zero) throws IOException {
        List<Socket> queued = new ArrayList<>();
        InetSocketAddress addr = new InetSocketAddress(InetAddress.getLoopbackAddress(), zero.port());
        for (int i = 0; i < 16; i++) {
            Socket s = new Socket();
            try {
                s.connect(addr, 200);
                queued.add(s);
            } catch (SocketTimeoutException e) {
                s.close();
                return queued;
            }
        }
        throw new IllegalStateException("the listener's backlog never filled");
    }

    /** Whether {@code t} is blocked in a selector's select, waiting for rank 0. */
    private static boolean selecting(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("sun.nio.ch.") && e.getMethodName().equals("doSelect")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The ok, then the outcome, each sent while the task is blocked waiting for it: every wait after the first
     * wakes up too (a key left among the selected ones would not count as selected again).
     */
    @Test
    void okAndOutcome_eachSentWhileTheTaskWaitsInItsSelect_endTheWait() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (ScriptedRank0 zero = new ScriptedRank0();
                Link l = link(zero)) {
            AtomicReference<Thread> waiter = new AtomicReference<>();
            Future<Integer> ok = pool.submit(() -> {
                waiter.set(Thread.currentThread());
                return l.task().awaitOk(10_000);
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> waiter.get() != null && selecting(waiter.get()));
            ScriptedRank0.send(l.zero(), "ok\n");
            assertEquals(1, ok.get());
            Future<Outcome> outcome = pool.submit(() -> l.task().await(5_000));
            await().atMost(Duration.ofSeconds(10)).until(() -> selecting(waiter.get()));
            ScriptedRank0.send(l.zero(), ScriptedRank0.release());
            assertNotNull(outcome.get(), "the release came within the wait");
        } finally {
            pool.shutdownNow();
        }
    }
}
