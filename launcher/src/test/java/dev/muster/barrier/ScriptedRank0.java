package dev.muster.barrier;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;

/**
 * The test in rank 0's place on 127.0.0.1: a plain listener whose every answer to a task (ok, nothing, a partial
 * ok, garbage, the outcome in pieces, a close or a reset) is written by the test, in the order the test makes.
 * Every blocking read is bounded (10 s), so that a broken task fails a test instead of hanging it.
 */
final class ScriptedRank0 implements AutoCloseable {
    static final byte[] TOKEN = HexFormat.of().parseHex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    static final int READ_TIMEOUT_MILLIS = 10_000;

    final ServerSocket listener;

    ScriptedRank0() throws IOException {
        this(50);
    }

    ScriptedRank0(int backlog) throws IOException {
        listener = new ServerSocket(0, backlog, InetAddress.getLoopbackAddress());
        listener.setSoTimeout(READ_TIMEOUT_MILLIS);
    }

    int port() {
        return listener.getLocalPort();
    }

    TcpEndpoint endpoint() {
        return TcpEndpoint.listening("127.0.0.1", port(), TOKEN);
    }

    /** The version 1 hello a task without a card sends. */
    static String hello(int rank) {
        return TcpHello.HELLO + rank + " " + HexFormat.of().formatHex(TOKEN);
    }

    Socket accept() throws IOException {
        Socket s = listener.accept();
        s.setSoTimeout(READ_TIMEOUT_MILLIS);
        return s;
    }

    /** Whether no further connection is waiting: what a task tried has reached the listener by its return. */
    boolean noMoreConnections() throws IOException {
        listener.setSoTimeout(200);
        try (Socket extra = listener.accept()) {
            return extra == null;
        } catch (SocketTimeoutException e) {
            return true;
        } finally {
            listener.setSoTimeout(READ_TIMEOUT_MILLIS);
        }
    }

    /** One line from {@code s}, without its newline. */
    static String readLine(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("end of stream after " + line);
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    /** Everything {@code s} receives until the task closes its end. */
    static String rest(Socket s) throws IOException {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }

    static void send(Socket s, byte[] bytes) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(bytes);
        out.flush();
    }

    static void send(Socket s, String ascii) throws IOException {
        send(s, ascii.getBytes(StandardCharsets.US_ASCII));
    }

    /** Closes {@code s} with a reset (RST) instead of an orderly close. */
    static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    static byte[] release() {
        return Outcome.release(0, Map.of("master_addr", "n1")).encode();
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
