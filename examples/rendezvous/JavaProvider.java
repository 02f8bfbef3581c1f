import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A model-server stand-in: answers every GET with one line. {@code java JavaProvider.java PORT} (source launch,
 * Java 11+); listens on every interface until it is stopped.
 */
public final class JavaProvider {
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        String host = InetAddress.getLocalHost().getHostName();
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("hello from JavaProvider on " + host + ":" + port + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.err.println("JavaProvider listening on port " + port);
    }
}
