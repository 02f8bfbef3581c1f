package dev.muster.barrier;

import dev.muster.core.Log;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What rank 0 publishes in the step's {@code endpoint} file: the address it listens on and the token a peer must
 * present, or {@code none} when it does not listen (the others then wait by the file protocol at once).
 *
 * <p>Same framing as {@link Outcome}: a header, {@code key=value} lines, an {@code end} line, so a short read is
 * "not yet".
 */
record TcpEndpoint(String host, int port, byte[] token, String none) {
    static final String HEADER = "muster-endpoint 1\n";
    static final String END = "end\n";
    static final int TOKEN_BYTES = 16;

    static TcpEndpoint listening(String host, int port, byte[] token) {
        return new TcpEndpoint(host, port, token.clone(), null);
    }

    static TcpEndpoint none(String reason) {
        return new TcpEndpoint("", 0, new byte[0], reason);
    }

    boolean listening() {
        return none == null;
    }

    String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    byte[] encode() {
        StringBuilder b = new StringBuilder(HEADER);
        if (none != null) {
            b.append("none=").append(none.replace('\n', ' ')).append('\n');
        } else {
            b.append("host=").append(host).append('\n');
            b.append("port=").append(port).append('\n');
            b.append("token=").append(HexFormat.of().formatHex(token)).append('\n');
        }
        return b.append(END).toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The endpoint in {@code bytes}, null while incomplete; a malformed file counts as {@code none}. */
    static TcpEndpoint decode(byte[] bytes, int length) {
        String s = new String(bytes, 0, length, StandardCharsets.UTF_8);
        if (!s.endsWith(END)) {
            return null;
        }
        if (!s.startsWith(HEADER)) {
            return none("the endpoint file is not muster's");
        }
        Map<String, String> f = new LinkedHashMap<>();
        for (String line :
                s.substring(HEADER.length(), s.length() - END.length()).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                f.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        if (f.containsKey("none")) {
            return none(f.get("none"));
        }
        try {
            byte[] token = HexFormat.of().parseHex(f.getOrDefault("token", ""));
            int port = Integer.parseInt(f.getOrDefault("port", ""));
            String host = f.getOrDefault("host", "");
            if (token.length != TOKEN_BYTES || port <= 0 || port > 65535 || host.isEmpty()) {
                return none("the endpoint file is malformed");
            }
            return listening(host, port, token);
        } catch (IllegalArgumentException e) {
            return none("the endpoint file is malformed");
        }
    }

    /**
     * Where rank 0 listens: {@code --bind-address} when given; else the node's own address as the other nodes
     * reach it (Slurm's {@code SLURMD_NODENAME} resolved, then the task's node name, then the host name). A
     * wildcard or loopback address would be wrong for a multi-node step unless the step is local, so muster
     * never guesses one: {@code muster local} binds 127.0.0.1 explicitly.
     */
    static InetAddress bindAddress(String flag, String launcher, String node, Map<String, String> env)
            throws UnknownHostException {
        if (flag != null) {
            return InetAddress.getByName(flag);
        }
        if (launcher.equals("local")) {
            return InetAddress.getLoopbackAddress();
        }
        for (String name : new String[] {env.get("SLURMD_NODENAME"), node}) {
            if (name != null && !name.isEmpty()) {
                try {
                    return InetAddress.getByName(name);
                } catch (UnknownHostException e) {
                    Log.debug("cannot resolve node name " + name + ": " + e.getMessage());
                }
            }
        }
        return InetAddress.getLocalHost();
    }
}
