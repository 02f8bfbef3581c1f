package dev.muster.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SocketsTest {
    /** Two lines as Linux writes them (a listener and a connection), with the header. */
    private static final String TABLE = ""
            + "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            + "   0: 0100007F:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1 0"
            + " 100 0 0 10 0\n"
            + "  12: 0100007F:B1C2 0100007F:9C41 01 00000000:00000000 00:00000000 00000000     0        0 815 1 0"
            + " 20 4 30 10 -1\n";

    @Test
    void inodeIn_findsTheConnectionByItsPorts() {
        assertEquals("815", Sockets.inodeIn(TABLE, 0xB1C2, 0x9C41));
    }

    @Test
    void inodeIn_portsWithFewerHexDigits_arePadded() {
        String t = TABLE.replace("B1C2", "00C2");
        assertEquals("815", Sockets.inodeIn(t, 0xC2, 0x9C41));
        assertNull(Sockets.inodeIn(t, 0xC20, 0x9C41));
    }

    @Test
    void inodeIn_noSuchConnection_orInodeZero_isNull() {
        assertNull(Sockets.inodeIn(TABLE, 0x9C41, 0xB1C2)); // the other end
        assertNull(Sockets.inodeIn(TABLE.replace(" 815 ", " 0 "), 0xB1C2, 0x9C41));
        assertNull(Sockets.inodeIn("", 1, 2));
        assertNull(Sockets.inodeIn("   0: short line\n", 1, 2));
    }

    /** A real loopback connection: the descriptor the kernel's tables name is this connection's, and goes with it. */
    @Test
    void fromTables_findsALiveConnectionsDescriptor() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel client = SocketChannel.open(server.getLocalAddress());
            int fd;
            try (SocketChannel accepted = server.accept()) {
                int local = ((InetSocketAddress) client.getLocalAddress()).getPort();
                int remote = ((InetSocketAddress) client.getRemoteAddress()).getPort();
                fd = Sockets.fromTables(local, remote);
                assertTrue(fd >= 3 && accepted.isConnected(), "descriptor " + fd);
                assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd))
                        .toString()
                        .startsWith("socket:["));
                assertEquals(fd, Sockets.fdOf(local, remote), "the library (when loaded) agrees with the tables");
                String link =
                        Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
                client.close();
                assertTrue(
                        !Files.exists(Path.of("/proc/self/fd/" + fd), java.nio.file.LinkOption.NOFOLLOW_LINKS)
                                || !Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd))
                                        .toString()
                                        .equals(link),
                        "the descriptor was the client's connection");
            }
        }
    }
}
