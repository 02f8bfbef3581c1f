package dev.muster.barrier;

import dev.muster.core.ForceSync;
import java.io.IOException;
import java.net.InetAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;

/**
 * Runs the TCP path's code once without touching any step, so that a cold JVM has it loaded and linked before it
 * matters: in {@code run --dry-run}, which is how scripts/muster trains its start-up archive, and on a daemon
 * thread right after each task arrives, so that the release (rank 0's last hello, its outcome, every task's read
 * of it) finds nothing left to load: the agent's JVM has no start-up archive (docs/performance.md).
 */
final class TcpWarmUp {
    private TcpWarmUp() {}

    /** Both sides of the TCP path and the forced polls, for the start-up archive. */
    static void all() {
        ForceSync.prepare(); // the forced polls on caching mounts (PolledFile)
        release();
    }

    /** On a daemon thread: what the release over TCP runs. A lambda would itself cost the agent's cold JVM. */
    static void releaseInBackground() {
        Thread t = new Thread("muster-warm-up") {
            @Override
            public void run() {
                release();
            }
        };
        t.setDaemon(true);
        t.start();
    }

    /** What the release over TCP runs, once, without side effects (a loopback listener opened and closed). */
    private static void release() {
        client();
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

    /**
     * Loads and links the classes of {@link TcpClient#connect} (channels, selector, address parsing) off the critical
     * path: a cold JVM otherwise spends tens of milliseconds there right after the task arrives.
     */
    static void client() {
        try (SocketChannel ch = SocketChannel.open();
                Selector sel = Selector.open()) {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.register(sel, SelectionKey.OP_CONNECT).cancel();
            sel.selectNow();
            InetAddress.getByName("127.0.0.1");
            HexFormat.of().formatHex(new byte[1]);
            byte[] sample = Outcome.release(0, Map.of("k", "v")).encode();
            Outcome.decode(sample, sample.length, "");
        } catch (IOException | RuntimeException e) {
            // only a missed optimisation
        }
    }
}
