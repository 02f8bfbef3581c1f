package dev.muster.barrier;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/** Runs the TCP release path's code once ahead of need, so that its classes are loaded before the release. */
final class TcpWarmUp {
    private TcpWarmUp() {}

    /**
     * Loads and runs the release path's TCP code once while this task waits, not after the last arrival: the
     * agent's JVM has no start-up archive, and the launcher's may be missing (docs/performance.md).
     */
    static void startInBackground() {
        // a class rather than a lambda on this path: each lambda costs the agent's cold JVM a millisecond
        Thread warmUp = new Thread("muster-warm-up") {
            @Override
            public void run() {
                release();
            }
        };
        warmUp.setDaemon(true);
        warmUp.start();
    }

    /** What the release over TCP runs, once, without side effects (a loopback listener opened and closed). */
    static void release() {
        TcpClient.warmUp();
        try (TcpServer s = TcpServer.open(InetAddress.getLoopbackAddress(), 2, new byte[TcpEndpoint.TOKEN_BYTES])) {
            s.poll(0, System.nanoTime());
            InetAddress.getByName("localhost");
            byte[] ep = TcpEndpoint.listening("127.0.0.1", s.port(), new byte[TcpEndpoint.TOKEN_BYTES])
                    .encode();
            TcpEndpoint.decode(ep, ep.length);
            // rank 0's side of the last hello: parse and authenticate one (HexFormat, MessageDigest)
            TcpHello hello = new TcpHello(System.nanoTime());
            hello.bytes.put((TcpHello.HELLO + "1 00\n").getBytes(StandardCharsets.US_ASCII));
            hello.parse(2, new byte[1]);
        } catch (IOException | RuntimeException e) {
            // only a missed optimisation
        }
    }
}
