package dev.muster.barrier;

import dev.muster.core.MusterException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What ends a barrier, written once into the step's outcome file: rank 0's release (with what every task needs
 * afterwards), a task's abort (its rank, reason and exit code), or a timeout (the missing ranks).
 *
 * <p>Encoded as {@code key=value} lines between a header and an {@code end} line, so a reader can tell a
 * complete outcome from a short read.
 */
public record Outcome(Kind kind, int rank, int code, String reason, List<Integer> missing, Map<String, String> data) {

    public enum Kind {
        RELEASE,
        ABORT,
        TIMEOUT;

        /** How the outcome file spells this kind. */
        String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The key of the line that says which {@link Kind} an outcome is. */
    static final String KIND = "kind";

    static final String HEADER = "muster-outcome 1\n";
    static final String END = "end\n";

    public Outcome {
        missing = List.copyOf(missing);
        data = Map.copyOf(data);
    }

    public static Outcome release(int rank, Map<String, String> data) {
        return new Outcome(Kind.RELEASE, rank, 0, "", List.of(), data);
    }

    public static Outcome abort(int rank, int code, String reason) {
        return new Outcome(Kind.ABORT, rank, code, reason, List.of(), Map.of());
    }

    public static Outcome timeout(int rank, List<Integer> missing) {
        return new Outcome(Kind.TIMEOUT, rank, 0, "", missing, Map.of());
    }

    public byte[] encode() {
        StringBuilder b = new StringBuilder(HEADER);
        b.append(KIND).append('=').append(kind.word()).append('\n');
        b.append("rank=").append(rank).append('\n');
        b.append("code=").append(code).append('\n');
        b.append("reason=").append(escape(reason)).append('\n');
        b.append("missing=").append(joinRanks(missing)).append('\n');
        for (Map.Entry<String, String> e : data.entrySet()) {
            b.append("d.")
                    .append(escape(e.getKey()))
                    .append('=')
                    .append(escape(e.getValue()))
                    .append('\n');
        }
        return b.append(END).toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Where the {@code end} line ends in the first {@code length} bytes of {@code a}, or -1 while it has not come. */
    static int endIn(byte[] a, int length) {
        byte[] end = ("\n" + END).getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + end.length <= length; i++) {
            for (int j = 0; j < end.length; j++) {
                if (a[i + j] != end[j]) {
                    continue outer;
                }
            }
            return i + end.length;
        }
        return -1;
    }

    /** The outcome in {@code bytes}, or null when they are not (yet) a complete outcome. */
    public static Outcome decode(byte[] bytes, int length, String file) {
        String s = new String(bytes, 0, length, StandardCharsets.UTF_8);
        if (!s.endsWith(END)) {
            return null; // empty (created ahead of time) or a short read: not yet
        }
        if (!s.startsWith(HEADER)) {
            throw MusterException.corrupt("outcome file " + file + " is not a muster outcome; another program wrote "
                    + "there: remove the step directory or choose another sync directory");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        Map<String, String> data = new LinkedHashMap<>();
        for (String line :
                s.substring(HEADER.length(), s.length() - END.length()).split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw MusterException.corrupt("outcome file " + file + " has a malformed line '" + line + "'");
            }
            String k = line.substring(0, eq);
            String v = unescape(line.substring(eq + 1));
            if (k.startsWith("d.")) {
                data.put(unescape(k.substring(2)), v);
            } else {
                fields.put(k, v);
            }
        }
        try {
            Kind kind = Kind.valueOf(fields.getOrDefault(KIND, "").toUpperCase(java.util.Locale.ROOT));
            return new Outcome(
                    kind,
                    Integer.parseInt(fields.get("rank")),
                    Integer.parseInt(fields.get("code")),
                    fields.getOrDefault("reason", ""),
                    parseRanks(fields.getOrDefault("missing", "")),
                    data);
        } catch (RuntimeException e) {
            throw MusterException.corrupt(
                    "outcome file " + file + " is malformed (" + e.getMessage() + "); remove the step directory");
        }
    }

    static String joinRanks(List<Integer> ranks) {
        StringBuilder b = new StringBuilder();
        for (int r : ranks) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(r);
        }
        return b.toString();
    }

    static List<Integer> parseRanks(String s) {
        List<Integer> out = new ArrayList<>();
        for (String p : s.split(",")) {
            if (!p.isEmpty()) {
                out.add(Integer.parseInt(p));
            }
        }
        return out;
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\e");
    }

    private static String unescape(String s) {
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
}
