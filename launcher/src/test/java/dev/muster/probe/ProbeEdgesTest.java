package dev.muster.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.muster.core.MusterException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The probes' forms at their edges (ports 1 and 65535, statuses 100 and 599) and the HTTP status classes. */
class ProbeEdgesTest {
    private static String why(String spec) {
        MusterException e = assertThrows(MusterException.class, () -> Probe.parse("--ready", spec), spec);
        String m = e.getMessage();
        return m.substring(m.indexOf('(') + 1, m.indexOf("); use "));
    }

    @Test
    void tcp_portsOneTo65535_andTheHostForms() {
        assertEquals(new TcpProbe("tcp:1", "localhost", 1), Probe.parse("--ready", "tcp:1"));
        assertEquals(new TcpProbe("tcp:h:65535", "h", 65535), Probe.parse("--ready", "tcp:h:65535"));
        assertEquals(new TcpProbe("tcp:a:b:7", "a:b", 7), Probe.parse("--ready", "tcp:a:b:7"), "the last colon");
        assertEquals("port 0 is outside 1..65535", why("tcp:0"));
        assertEquals("port 65536 is outside 1..65535", why("tcp:h:65536"));
        assertEquals("the host is empty", why("tcp::22"));
        assertEquals("'x' is not a port number", why("tcp:h:x"));
        assertEquals("an IPv6 host is written [ADDRESS]:PORT", why("tcp:[::1]"));
        assertEquals("an IPv6 host is written [ADDRESS]:PORT", why("tcp:[::1"));
        assertEquals("'' is not a port number", why("tcp:[::1]:"));
        assertEquals("the host is empty", why("tcp:[]:22"));
    }

    @Test
    void http_statusSuffixIsThreeDigitsFrom100To599_elseItBelongsToTheUrl() {
        assertEquals(100, ((HttpProbe) Probe.parse("--ready", "http://h/=100")).expectedStatus());
        assertEquals(599, ((HttpProbe) Probe.parse("--ready", "http://h/=599")).expectedStatus());
        assertEquals("status 99 is outside 100..599", why("http://h/=099"));
        assertEquals("status 600 is outside 100..599", why("http://h/=600"));
        HttpProbe two = (HttpProbe) Probe.parse("--ready", "http://h/?a=20");
        assertEquals(HttpProbe.ANY_2XX, two.expectedStatus());
        assertEquals("http://h/?a=20", two.url().toString());
        HttpProbe four = (HttpProbe) Probe.parse("--ready", "http://h/?a=2000");
        assertEquals("http://h/?a=2000", four.url().toString());
        HttpProbe letters = (HttpProbe) Probe.parse("--ready", "http://h/?a=2x0");
        assertEquals("http://h/?a=2x0", letters.url().toString());
        assertEquals("the URL names no host", why("http:///x"));
    }

    @Test
    void cmd_quotesAreRemovedOnlyInMatchingPairs() {
        assertEquals("a b", ((CommandProbe) Probe.parse("--ready", "cmd:\"a b\"")).command());
        assertEquals("'a b\"", ((CommandProbe) Probe.parse("--ready", "cmd:'a b\"")).command());
        assertEquals("'", ((CommandProbe) Probe.parse("--ready", "cmd:'")).command());
        assertEquals("x'", ((CommandProbe) Probe.parse("--ready", "cmd:x'")).command());
    }

    @Test
    void http_2xxBelow500OrExactly_andWhatAMissSays() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        for (int code : new int[] {200, 204, 299, 300, 404, 499, 500, 503}) {
            server.createContext("/" + code, x -> {
                x.sendResponseHeaders(code, code == 204 ? -1 : 5);
                if (code != 204) {
                    x.getResponseBody().write("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                }
                x.close();
            });
        }
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            Duration t = Duration.ofSeconds(20);
            assertNull(Probe.parse("--ready", base + "/200").attempt(t));
            assertNull(Probe.parse("--ready", base + "/299").attempt(t));
            assertEquals(
                    base + "/300 answered 300, not 2xx",
                    Probe.parse("--ready", base + "/300").attempt(t));
            assertNull(HttpProbe.answering(base + "/404").attempt(t));
            assertNull(HttpProbe.answering(base + "/499").attempt(t));
            assertNull(HttpProbe.answering(base + "/200").attempt(t));
            assertEquals(
                    base + "/500 answered 500, a server error",
                    HttpProbe.answering(base + "/500").attempt(t));
            assertNull(Probe.parse("--ready", base + "/503=503").attempt(t));
            assertEquals(
                    base + "/404 answered 404, not 503",
                    Probe.parse("--ready", base + "/404=503").attempt(t));
            assertEquals(base + "/x<500", HttpProbe.answering(base + "/x").spec());
            String down = Probe.parse("--ready", "http://127.0.0.1:1/").attempt(t);
            assertTrue(down.startsWith("http://127.0.0.1:1/: java.net.ConnectException"), down);
        } finally {
            server.stop(0);
        }
    }
}
