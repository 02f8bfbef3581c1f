package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The endpoint file rank 0 publishes (address and token, or why it does not listen), and where rank 0 binds. */
class TcpEndpointTest {
    private static final byte[] TOKEN = new byte[TcpEndpoint.TOKEN_BYTES];

    static {
        for (int i = 0; i < TOKEN.length; i++) {
            TOKEN[i] = (byte) (0xf0 + i);
        }
    }

    private static TcpEndpoint decode(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return TcpEndpoint.decode(b, b.length);
    }

    private static String body(String lines) {
        return TcpEndpoint.HEADER + lines + TcpEndpoint.END;
    }

    @Test
    void listening_roundTrips_andIsWrittenAsKeyValueLines() {
        TcpEndpoint e = TcpEndpoint.listening("10.0.0.1", 40000, TOKEN);
        String text = new String(e.encode(), StandardCharsets.UTF_8);
        assertEquals(body("host=10.0.0.1\nport=40000\ntoken=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\n"), text);
        TcpEndpoint back = decode(text);
        assertTrue(back.listening());
        assertEquals("10.0.0.1", back.host());
        assertEquals(40000, back.port());
        assertArrayEquals(TOKEN, back.token());
        assertEquals("10.0.0.1:40000", back.address());
        assertEquals("[fe80::1]:7", TcpEndpoint.listening("fe80::1", 7, TOKEN).address());
        assertEquals("[::1]:7", TcpEndpoint.listening("::1", 7, TOKEN).address(), "a colon first");
    }

    @Test
    void none_roundTripsItsReasonOnOneLine() {
        TcpEndpoint none = TcpEndpoint.none("cannot bind\n10.0.0.9");
        assertFalse(none.listening());
        assertEquals(body("none=cannot bind 10.0.0.9\n"), new String(none.encode(), StandardCharsets.UTF_8));
        TcpEndpoint back = decode(new String(none.encode(), StandardCharsets.UTF_8));
        assertFalse(back.listening());
        assertEquals("cannot bind 10.0.0.9", back.none());
    }

    @Test
    void shortRead_isNotYet_foreignOrMalformed_isNone() {
        String full = new String(TcpEndpoint.listening("h", 1, TOKEN).encode(), StandardCharsets.UTF_8);
        assertNull(decode(""));
        assertNull(decode(full.substring(0, full.length() - 1)));
        assertEquals("the endpoint file is not muster's", decode("hello\nend\n").none());
        String hex = "token=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\n";
        assertTrue(decode(body("host=h\nport=65535\n" + hex)).listening(), "the highest port");
        assertTrue(decode(body("host=h\nport=1\n" + hex + "=x\nnoise\n")).listening(), "lines without a key skipped");
        for (String bad : new String[] {
            "host=h\nport=0\n" + hex,
            "host=h\nport=65536\n" + hex,
            "host=h\nport=-1\n" + hex,
            "host=h\nport=x\n" + hex,
            "host=\nport=1\n" + hex,
            "port=1\n" + hex,
            "host=h\n" + hex,
            "host=h\nport=1\ntoken=f0f1\n",
            "host=h\nport=1\ntoken=zz\n",
            "host=h\nport=1\n"
        }) {
            TcpEndpoint e = decode(body(bad));
            assertFalse(e.listening(), bad);
            assertEquals("the endpoint file is malformed", e.none(), bad);
        }
    }

    @Test
    void bindAddress_flagThenLocalLoopbackThenTheNodesName() throws UnknownHostException {
        assertEquals(
                InetAddress.getByName("127.0.0.2"),
                TcpEndpoint.bindAddress("127.0.0.2", "local", "n1", Map.of("SLURMD_NODENAME", "127.0.0.3")));
        assertEquals(
                InetAddress.getLoopbackAddress(),
                TcpEndpoint.bindAddress(null, "local", "127.0.0.4", Map.of("SLURMD_NODENAME", "127.0.0.3")));
        assertEquals(
                InetAddress.getByName("127.0.0.3"),
                TcpEndpoint.bindAddress(null, "slurm", "127.0.0.4", Map.of("SLURMD_NODENAME", "127.0.0.3")));
        assertEquals(
                InetAddress.getByName("127.0.0.4"),
                TcpEndpoint.bindAddress(null, "slurm", "127.0.0.4", Map.of("SLURMD_NODENAME", "")));
        assertEquals(InetAddress.getLocalHost(), TcpEndpoint.bindAddress(null, "slurm", "", Map.of()));
    }
}
