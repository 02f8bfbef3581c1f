package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A task's side of one TCP connection, against this test in rank 0's place on loopback. */
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
}
