package dev.muster.barrier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.muster.core.Clock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rank 0's listener thread not run for a long while (a loaded node: the soak saw 16 s at a load average of 400):
 * rank 0 waited for it alone, with no deadline, while every task had arrived by its arrival file, so the others
 * timed out ("all N arrived, but no release came from rank 0") and, when the listener never came in time, rank 0
 * stayed past its own deadline. Here the listener blocks until the test lets it go.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StarvedListenerTest {
    @TempDir
    Path root;

    private FileBarrier task(int rank, Duration timeout) {
        BarrierSettings s =
                new BarrierSettings(timeout, Duration.ofMillis(5), Duration.ofMillis(2), Duration.ofSeconds(60));
        FileBarrier b = new FileBarrier(root, "k", rank, 2, "h", s, Clock.SYSTEM, new Random(rank), null);
        b.prepare();
        return b;
    }

    @Test
    void listenerNotOpenYet_rank0ReleasesByArrivalFiles_andClosesTheListenerWhenItOpens() throws Exception {
        CountDownLatch starved = new CountDownLatch(1);
        FileBarrier zeroFiles = task(0, Duration.ofSeconds(20));
        TcpBarrier zero = new TcpBarrier(
                zeroFiles,
                () -> {
                    starved.await(); // the listener thread gets no CPU until the test says so
                    return InetAddress.getLoopbackAddress();
                },
                "127.0.0.1");
        zero.prepare();
        zero.arrive();
        FileBarrier oneFiles = task(1, Duration.ofSeconds(20));
        TcpBarrier one = new TcpBarrier(oneFiles, InetAddress::getLoopbackAddress, "127.0.0.1");
        one.arrive();
        CompletableFuture<Outcome> oneSaw = CompletableFuture.supplyAsync(() -> {
            try {
                return one.await(Map.of());
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10))
                .until(() -> zeroFiles.listArrivals().cardinality() == 2);

        Outcome released = assertTimeoutPreemptively(
                Duration.ofSeconds(5),
                () -> zero.await(Map.of("master_addr", "h")),
                "rank 0 waited for its listener with every arrival file there");
        assertEquals(Outcome.Kind.RELEASE, released.kind());
        assertEquals(Outcome.Kind.RELEASE, oneSaw.get(10, TimeUnit.SECONDS).kind());

        starved.countDown(); // the listener opens and publishes after the release: it is closed, not left behind
        await().atMost(Duration.ofSeconds(10)).until(() -> zeroFiles.polls().endpoint() != null);
        TcpEndpoint ep = zeroFiles.polls().endpoint();
        await().atMost(Duration.ofSeconds(10)).until(() -> refused(ep));
    }

    private static boolean refused(TcpEndpoint ep) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ep.host(), ep.port()), 1000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
