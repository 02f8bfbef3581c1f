package dev.muster.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeTest {
    @TempDir
    Path tmp;

    @Test
    void tcp_socketConnectedToItself_isNoListener() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        // what the kernel may do to a probe of a free loopback port in the ephemeral range: source port = target
        try (java.net.Socket s = new java.net.Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            assertTrue(TcpProbe.connectedToItself(s), "simultaneous open to itself on port " + port);
        }
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                java.net.Socket s = new java.net.Socket()) {
            s.connect(server.getLocalSocketAddress(), 2000);
            assertFalse(TcpProbe.connectedToItself(s));
        }
    }

    @Test
    void parse_everyForm() {
        assertEquals(new TcpProbe("tcp:8000", "localhost", 8000), Probe.parse("--ready", "tcp:8000"));
        assertEquals(new TcpProbe("tcp:node1:22", "node1", 22), Probe.parse("--ready", "tcp:node1:22"));
        assertEquals(new TcpProbe("tcp:[::1]:22", "::1", 22), Probe.parse("--ready", "tcp:[::1]:22"));
        HttpProbe h = (HttpProbe) Probe.parse("--ready", "http://localhost:8000/health?x=1=204");
        assertEquals(204, h.expectedStatus());
        assertEquals("http://localhost:8000/health?x=1", h.url().toString());
        assertEquals(HttpProbe.ANY_2XX, ((HttpProbe) Probe.parse("--ready", "https://h/x=y")).expectedStatus());
        assertEquals(
                new FileProbe("file:/tmp/ready", Path.of("/tmp/ready")), Probe.parse("--ready", "file:/tmp/ready"));
        assertEquals("test -e x", ((CommandProbe) Probe.parse("--ready", "cmd:'test -e x'")).command());
        assertInstanceOf(CommandProbe.class, Probe.parse("--ready", "cmd:true"));
    }

    @Test
    void parse_errors_areUsage_namingTheProbeAndTheForms() {
        for (String bad : List.of(
                "tcp:",
                "tcp:x:y",
                "tcp:70000",
                "tcp:[::1]22",
                "http://",
                "http://h=999",
                "file:",
                "cmd:''",
                "udp:53",
                "8000")) {
            MusterException e = assertThrows(MusterException.class, () -> Probe.parse("--ready", bad), bad);
            assertEquals(ExitCodes.USAGE, e.status());
            assertTrue(e.getMessage().startsWith("--ready '" + bad + "' is not a readiness probe"), e.getMessage());
            assertTrue(e.getMessage().endsWith(Probe.FORMS), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void tcp_readyOnceListening() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Probe p = Probe.parse("--ready", "tcp:127.0.0.1:" + s.getLocalPort());
            assertNull(p.attempt(Duration.ofSeconds(1)));
        }
    }

    @Test
    void tcp_closedPort_givesUpAtTheDeadline() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Probe.Result r = Probe.parse("--ready", "tcp:127.0.0.1:" + port).await(Duration.ofMillis(400), Clock.SYSTEM);
        assertFalse(r.ready());
        assertTrue(r.attempts() >= 2, "retried: " + r);
        assertTrue(r.lastFailure().contains(String.valueOf(port)), r.lastFailure());
    }

    @Test
    void http_statusMatters() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/ok", x -> {
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        server.createContext("/teapot", x -> {
            x.sendResponseHeaders(418, -1);
            x.close();
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            assertNull(Probe.parse("--ready", base + "/ok").attempt(Duration.ofSeconds(2)));
            assertNull(Probe.parse("--ready", base + "/teapot=418").attempt(Duration.ofSeconds(2)));
            String miss = Probe.parse("--ready", base + "/teapot").attempt(Duration.ofSeconds(2));
            assertTrue(miss.contains("418"), miss);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void file_and_cmd() throws IOException {
        Path marker = tmp.resolve("ready");
        Probe f = Probe.parse("--ready", "file:" + marker);
        assertTrue(f.attempt(Duration.ofMillis(10)) != null);
        Files.createFile(marker);
        assertNull(f.attempt(Duration.ofMillis(10)));
        assertNull(Probe.parse("--ready", "cmd:'test -e " + marker + "'").attempt(Duration.ofSeconds(5)));
        assertTrue(Probe.parse("--ready", "cmd:exit 3")
                .attempt(Duration.ofSeconds(5))
                .contains("exited with 3"));
        assertTrue(Probe.parse("--ready", "cmd:sleep 5")
                .attempt(Duration.ofMillis(200))
                .contains("still running"));
    }

    @Test
    void await_backsOff_from50msTo500ms_withoutSleepingInTests() {
        ManualClock clock = new ManualClock();
        Probe never = new Probe() {
            @Override
            public String attempt(Duration timeout) {
                return "no";
            }

            @Override
            public String spec() {
                return "never";
            }
        };
        Probe.Result r = never.await(Duration.ofSeconds(10), clock);
        assertFalse(r.ready());
        assertEquals(50_000_000L, clock.sleeps().get(0));
        assertEquals(500_000_000L, clock.sleeps().get(clock.sleeps().size() - 2));
        assertTrue(r.attempts() > 20 && r.attempts() < 40, "attempts " + r.attempts());
    }
}
