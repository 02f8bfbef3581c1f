package dev.muster.barrier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Clock;
import dev.muster.core.Log;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The pieces of {@link TcpBarrier} around rank 0's wait: its listener, its start, and what it passes through. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpBarrierPartsTest {
    @TempDir
    Path root;

    private FileBarrier files(int rank) {
        BarrierSettings s = new BarrierSettings(
                Duration.ofSeconds(20), Duration.ofMillis(10), Duration.ofMillis(5), Duration.ofSeconds(60));
        return new FileBarrier(root, "step", rank, 3, "node" + rank, s, Clock.SYSTEM, new Random(rank), null);
    }

    @Test
    void prepare_rank0_makesTheStepDirectory_andListensBeforeItArrives() throws Exception {
        FileBarrier zeroFiles = files(0);
        TcpBarrier zero = new TcpBarrier(zeroFiles, InetAddress::getLoopbackAddress, "127.0.0.1");
        zero.prepare();
        assertTrue(Files.isDirectory(zeroFiles.dir()), "the step directory, made by rank 0's prepare");
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            TcpEndpoint ep = zeroFiles.polls().endpoint();
            return ep != null && ep.listening();
        });
        assertEquals("127.0.0.1", zeroFiles.polls().endpoint().host());
        // the others arrive by file; rank 0 releases them and closes its listener
        for (int r = 1; r < 3; r++) {
            FileBarrier f = files(r);
            f.prepare();
            f.arrive();
        }
        zero.arrive();
        assertEquals(Outcome.Kind.RELEASE, zero.await(Map.of()).kind());
        TcpEndpoint ep = zeroFiles.polls().endpoint();
        assertThrows(IOException.class, () -> new Socket(ep.host(), ep.port()).close());
    }

    @Test
    void listen_onTheWildcardAddress_publishesThisHostsAddress() throws Exception {
        FileBarrier zeroFiles = files(0);
        zeroFiles.prepare();
        TcpBarrier.Listening l = TcpBarrier.listen(zeroFiles, () -> InetAddress.getByName("0.0.0.0"), "0.0.0.0")
                .get(10, TimeUnit.SECONDS);
        try {
            assertEquals(
                    InetAddress.getLocalHost().getHostAddress(), l.endpoint().host());
            assertNotEquals("0.0.0.0", zeroFiles.polls().endpoint().host(), "an address the others can reach");
        } finally {
            l.server().close();
        }
    }

    @Test
    void abandon_afterTheListenerOpened_closesItAtOnce() throws Exception {
        FileBarrier zeroFiles = files(0);
        zeroFiles.prepare();
        TcpBarrier.PendingListener p = TcpBarrier.listen(zeroFiles, InetAddress::getLoopbackAddress, "loopback");
        TcpBarrier.Listening l = p.get(10, TimeUnit.SECONDS);
        p.abandon();
        assertThrows(
                IOException.class,
                () -> new Socket(InetAddress.getLoopbackAddress(), l.server().port()).close(),
                "nobody listens any more");
    }

    @Test
    void rank0DecidesByFilesBeforeItsListenerFails_theFailureIsStillNamed() throws Exception {
        FileBarrier zeroFiles = files(0);
        for (int r = 1; r < 3; r++) {
            FileBarrier f = files(r);
            f.prepare();
            f.arrive();
        }
        CountDownLatch decided = new CountDownLatch(1);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
        try {
            // the listener's thread comes to bind() only once rank 0 has decided: a loaded node's order
            TcpBarrier zero = new TcpBarrier(
                    zeroFiles,
                    () -> {
                        decided.await();
                        return InetAddress.getByName("192.0.2.1");
                    },
                    "--bind-address 192.0.2.1");
            zero.prepare();
            zero.arrive();
            assertEquals(Outcome.Kind.RELEASE, zero.await(Map.of()).kind());
            decided.countDown();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> log.toString(StandardCharsets.UTF_8)
                            .contains("warning: cannot listen for the TCP release on --bind-address 192.0.2.1"));
        } finally {
            Log.to(System.err);
        }
    }

    @Test
    void rank0CannotListen_warnsNamingTheSetting_andReleasesByTheFiles() throws Exception {
        FileBarrier zeroFiles = files(0);
        zeroFiles.prepare();
        FileBarrier one = files(1);
        one.prepare();
        one.arrive();
        zeroFiles.arrive();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
        try {
            // TEST-NET-1: not an address of this machine, so bind() fails
            TcpBarrier zero =
                    new TcpBarrier(zeroFiles, () -> InetAddress.getByName("192.0.2.1"), "--bind-address 192.0.2.1");
            CompletableFuture<Outcome> done = CompletableFuture.supplyAsync(() -> {
                try {
                    return zero.await(Map.of("master_addr", "n0"));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            // rank 2 is missing until rank 0 has given up its listener: it then waits by the files
            String warning = "warning: cannot listen for the TCP release on --bind-address 192.0.2.1";
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> log.toString(StandardCharsets.UTF_8).contains(warning));
            FileBarrier two = files(2);
            two.prepare();
            two.arrive();
            Outcome o = done.get(10, TimeUnit.SECONDS);
            assertEquals(Outcome.Kind.RELEASE, o.kind());
            assertEquals("n0", o.data().get("master_addr"));
            TcpEndpoint ep = two.polls().endpoint();
            assertTrue(ep != null && !ep.listening(), "the endpoint file tells the others not to wait for it");
        } finally {
            Log.to(System.err);
        }
    }

    @Test
    void abort_isDecidedThroughTheOutcomeFile_andDepart_leavesTheDepartureFile() {
        FileBarrier twoFiles = files(2);
        twoFiles.prepare();
        TcpBarrier two = new TcpBarrier(twoFiles, InetAddress::getLoopbackAddress, "127.0.0.1");
        two.abort(127, "rank 2: ./app: command not found");
        Outcome o = files(0).readOutcome();
        assertEquals(Outcome.Kind.ABORT, o.kind());
        assertEquals(127, o.code());
        assertEquals(2, o.rank());
        two.depart();
        assertTrue(Files.exists(twoFiles.files().departure(2)));
        assertEquals(0, two.sentBytes(), "only rank 0 sends");
        assertEquals(0, two.connectedCount());
    }

    @Test
    void nowUs_isTheWallClockInMicroseconds() {
        Instant before = Instant.now();
        long us = TcpBarrier.nowUs();
        Instant after = Instant.now();
        assertTrue(micros(before) <= us && us <= micros(after), before + " <= " + us + " us <= " + after);
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }
}
