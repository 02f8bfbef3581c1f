package dev.muster.barrier;

import dev.muster.core.MusterException;
import dev.muster.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One task's card in the step roster (docs/roster.md): who it is, where it runs, the address it advertises, its
 * named ports and the small values it publishes. It travels with the task's arrival (the TCP hello, version 2, and
 * the arrival file) and rank 0 gathers every card into the roster it hands out with the release.
 *
 * <p>Encoded as {@code key=value} lines escaped as the outcome's are, so that a card cannot break the line format
 * it is carried in; at most {@link #MAX_BYTES} bytes. Validated where it is made ({@link #check}) and again where
 * rank 0 reads it ({@link #decode}).
 */
public record Card(
        int rank,
        String node,
        long pid,
        int localRank,
        String address,
        String iface,
        Map<String, Integer> ports,
        Map<String, String> values) {

    /** A whole encoded card, at most. */
    public static final int MAX_BYTES = 4096;
    /** One published value, at most (UTF-8 bytes). */
    public static final int MAX_VALUE = 1024;
    /** Names of ports and published values. */
    public static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    public Card {
        ports = Map.copyOf(new TreeMap<>(ports));
        values = Map.copyOf(new TreeMap<>(values));
        node = node == null ? "" : node;
        address = address == null ? "" : address;
        iface = iface == null ? "" : iface;
    }

    /** A card that says only what an arrival file of protocol 1 (no card) tells: node and pid. */
    static Card minimal(int rank, String node, long pid) {
        return new Card(rank, node, pid, -1, "", "", Map.of(), Map.of());
    }

    /**
     * Checks the limits of docs/roster.md; a violation is a usage error (exit 2) naming the key and the fix.
     * Returns the encoded card.
     */
    public byte[] check() {
        for (String k : values.keySet()) {
            checkKey("--publish", k);
            int n = values.get(k).getBytes(StandardCharsets.UTF_8).length;
            if (n > MAX_VALUE) {
                throw MusterException.usage("--publish " + k + ": the value has " + n + " bytes, more than the "
                        + MAX_VALUE + " a card allows; publish a path to a file instead");
            }
        }
        for (String k : ports.keySet()) {
            checkKey("--port", k);
        }
        byte[] b = encode();
        if (b.length > MAX_BYTES) {
            throw MusterException.usage("this task's card has " + b.length + " bytes, more than " + MAX_BYTES
                    + "; publish fewer or smaller --publish values");
        }
        return b;
    }

    /** Refuses a name outside {@link #KEY}. */
    public static void checkKey(String flag, String k) {
        if (!KEY.matcher(k).matches()) {
            throw MusterException.usage(flag + " " + Escape.line(k) + ": a name is 1 to 64 of A-Z a-z 0-9 _ . -");
        }
    }

    public byte[] encode() {
        StringBuilder b = new StringBuilder(128);
        b.append("rank=").append(rank).append('\n');
        b.append("node=").append(Escape.value(node)).append('\n');
        b.append("pid=").append(pid).append('\n');
        b.append("local_rank=").append(localRank).append('\n');
        b.append("address=").append(Escape.value(address)).append('\n');
        b.append("interface=").append(Escape.value(iface)).append('\n');
        for (Map.Entry<String, Integer> e : ports.entrySet()) {
            b.append("port.")
                    .append(e.getKey())
                    .append('=')
                    .append(e.getValue())
                    .append('\n');
        }
        for (Map.Entry<String, String> e : values.entrySet()) {
            b.append("v.")
                    .append(e.getKey())
                    .append('=')
                    .append(Escape.value(e.getValue()))
                    .append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The card in {@code bytes} (from a peer or an arrival file), checked: it must be {@code rank}'s, within the
     * limits, and every name a valid key. Throws {@link IllegalArgumentException} naming what is wrong.
     */
    static Card decode(byte[] bytes, int off, int len, int expectRank) {
        if (len > MAX_BYTES) {
            throw new IllegalArgumentException("card of " + len + " bytes");
        }
        String s = new String(bytes, off, len, StandardCharsets.UTF_8);
        Map<String, String> f = new TreeMap<>();
        Map<String, Integer> ports = new TreeMap<>();
        Map<String, String> values = new TreeMap<>();
        for (String line : s.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("malformed card line");
            }
            String k = line.substring(0, eq);
            String v = Escape.unvalue(line.substring(eq + 1));
            if (k.startsWith("port.")) {
                String name = k.substring(5);
                int p = Integer.parseInt(v);
                if (!KEY.matcher(name).matches() || p < 0 || p > 65535) {
                    throw new IllegalArgumentException("bad port " + name);
                }
                ports.put(name, p);
            } else if (k.startsWith("v.")) {
                String name = k.substring(2);
                if (!KEY.matcher(name).matches() || v.length() > MAX_VALUE) {
                    throw new IllegalArgumentException("bad value " + name);
                }
                values.put(name, v);
            } else {
                f.put(k, v); // unknown plain fields are ignored: a later card version may add some
            }
        }
        int rank = Integer.parseInt(f.getOrDefault("rank", "-1"));
        if (rank != expectRank) {
            throw new IllegalArgumentException("card of rank " + rank + " where rank " + expectRank + " was expected");
        }
        return new Card(
                rank,
                f.getOrDefault("node", ""),
                Long.parseLong(f.getOrDefault("pid", "0")),
                Integer.parseInt(f.getOrDefault("local_rank", "-1")),
                f.getOrDefault("address", ""),
                f.getOrDefault("interface", ""),
                ports,
                values);
    }

    /** This card as one JSON object of the roster file's {@code ranks} list (schema: docs/roster.md). */
    void json(StringBuilder b) {
        b.append("{\"rank\":")
                .append(rank)
                .append(",\"node\":")
                .append(Json.quote(node))
                .append(",\"pid\":")
                .append(pid)
                .append(",\"local_rank\":")
                .append(localRank)
                .append(",\"address\":")
                .append(Json.quote(address.isEmpty() ? node : address))
                .append(",\"interface\":")
                .append(iface.isEmpty() ? "null" : Json.quote(iface))
                .append(",\"ports\":{");
        String sep = "";
        for (Map.Entry<String, Integer> e : ports.entrySet()) {
            b.append(sep).append(Json.quote(e.getKey())).append(':').append(e.getValue());
            sep = ",";
        }
        b.append("},\"values\":{");
        sep = "";
        for (Map.Entry<String, String> e : values.entrySet()) {
            b.append(sep).append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
            sep = ",";
        }
        b.append("}}");
    }

    /** The outcome's escaping, shared so that cards and outcomes read the same way. */
    static final class Escape {
        private Escape() {}

        static String value(String s) {
            return s.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\e");
        }

        static String unvalue(String s) {
            StringBuilder b = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < s.length()) {
                    char n = s.charAt(++i);
                    b.append(n == 'n' ? '\n' : n == 'e' ? '=' : n);
                } else {
                    b.append(c);
                }
            }
            return b.toString();
        }

        /** A user's string shown in a one-line message: control characters and over-long text made safe. */
        static String line(String s) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < s.length() && i < 80; i++) {
                char c = s.charAt(i);
                b.append(c < 0x20 || c == 0x7f ? '?' : c);
            }
            return "'" + b + (s.length() > 80 ? "...'" : "'");
        }
    }
}
