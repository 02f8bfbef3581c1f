package dev.muster.probe;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;

/** Ready when a TCP connection to the port succeeds. The host defaults to this machine. */
public record TcpProbe(String spec, String host, int port) implements Probe {

    static TcpProbe parse(String flag, String spec) {
        String rest = spec.substring(4);
        String host = "localhost";
        String port = rest;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close < 0 || close + 1 >= rest.length() || rest.charAt(close + 1) != ':') {
                throw Probe.bad(flag, spec, "an IPv6 host is written [ADDRESS]:PORT");
            }
            host = rest.substring(1, close);
            port = rest.substring(close + 2);
        } else if (rest.lastIndexOf(':') >= 0) {
            host = rest.substring(0, rest.lastIndexOf(':'));
            port = rest.substring(rest.lastIndexOf(':') + 1);
        }
        if (host.isEmpty()) {
            throw Probe.bad(flag, spec, "the host is empty");
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw Probe.bad(flag, spec, "'" + port + "' is not a port number");
        }
        if (p < 1 || p > 65535) {
            throw Probe.bad(flag, spec, "port " + p + " is outside 1..65535");
        }
        return new TcpProbe(spec, host, p);
    }

    @Override
    public String attempt(Duration timeout) {
        InetAddress[] addresses;
        try {
            // every address: "localhost" may be ::1 and 127.0.0.1, and the server may listen on only one of them
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            return "unknown host " + host;
        }
        String last = "no address for " + host;
        int perAddress = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis() / addresses.length));
        for (InetAddress a : addresses) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(a, port), perAddress);
                if (connectedToItself(s)) {
                    last = "connect to " + a.getHostAddress() + ":" + port + " reached itself (nobody listens yet)";
                    continue;
                }
                return null;
            } catch (IOException e) {
                last = "connect to " + a.getHostAddress() + ":" + port + " failed: "
                        + (e.getMessage() != null
                                ? e.getMessage()
                                : e.getClass().getSimpleName());
            }
        }
        return last;
    }

    /**
     * TCP simultaneous open: with nobody listening on a loopback port in the ephemeral range, the kernel may pick
     * that very port as the source, and the socket connects to itself. A probe that took that for a listener let
     * a task arrive before its sshd was up.
     */
    static boolean connectedToItself(Socket s) {
        return s.isConnected()
                && s.getLocalPort() == s.getPort()
                && s.getLocalAddress().equals(s.getInetAddress());
    }
}
