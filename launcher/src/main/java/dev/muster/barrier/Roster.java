package dev.muster.barrier;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The step roster: every task's {@link Card}, in rank order, as the JSON that {@code MUSTER_ROSTER} points to
 * (schema version 1, docs/roster.md). Rank 0 builds it once at the release; the others receive these bytes as they
 * are (streamed after the TCP release, or read from the step's {@code roster} file) and never parse them on the
 * release path.
 *
 * <p>Fan-out: rank 0 streams the roster over TCP only while (tasks - 1) x (roster bytes) stays within
 * {@link #STREAM_BUDGET}; above it the release carries only the outcome, and every task reads the roster file that
 * rank 0 wrote before deciding, so rank 0 never sends N copies of a large roster (docs/roster.md#fan-out).
 */
public final class Roster {
    /** Version of the roster file's schema. */
    public static final int VERSION = 1;
    /** Release data: the roster's length in bytes; present when the release carries a roster. */
    public static final String BYTES = "roster.bytes";
    /** Release data: {@code tcp} when rank 0 streams the roster after the outcome, {@code file} when not. */
    public static final String VIA = "roster.via";
    /** Release data key rank 0's caller sets to ask for a roster with the release. */
    public static final String WANTED = "roster.wanted";
    /** Most bytes rank 0 sends as streamed rosters in one release. */
    public static final long STREAM_BUDGET = 64L << 20;
    /** Largest roster muster reads: 4,096 full cards and then some. */
    public static final int MAX_BYTES = 64 << 20;
    /** No environment variable muster derives from the roster is longer than this. */
    public static final int MAX_ENV = 64 << 10;

    private Roster() {}

    /** The roster file's JSON: one rank per line, so that line tools can read it too. */
    public static byte[] json(Card[] cards) {
        StringBuilder b = new StringBuilder(64 + cards.length * 160);
        b.append("{\"version\":")
                .append(VERSION)
                .append(",\"size\":")
                .append(cards.length)
                .append(",\"ranks\":[");
        for (int r = 0; r < cards.length; r++) {
            b.append(r == 0 ? "\n" : ",\n");
            cards[r].json(b);
        }
        b.append("\n]}\n");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The node-local directory of roster files ({@code MUSTER_ROSTER}'s copies, the node's file of the per-node
     * fan-out): {@code $TMPDIR/muster-<uid>/roster}, {@code /tmp} when TMPDIR is unset.
     */
    public static java.nio.file.Path nodeDir(Map<String, String> env) {
        String tmp = env.getOrDefault("TMPDIR", "/tmp");
        return java.nio.file.Path.of(tmp.isEmpty() ? "/tmp" : tmp, "muster-" + dev.muster.core.Posix.uid(), "roster");
    }

    /** Whether rank 0 streams a roster of {@code bytes} to {@code size - 1} tasks (see {@link #STREAM_BUDGET}). */
    static boolean streams(int size, long bytes) {
        return bytes * (size - 1L) <= STREAM_BUDGET;
    }

    /**
     * The compact variables every task exports (docs/roster.md#environment), derived by each task from the roster
     * it received, so that the release itself stays small: {@code MUSTER_HOSTS}, every rank's node in rank order,
     * comma-separated, while it fits in {@link #MAX_ENV} (else unset, and {@code MUSTER_HOSTS_OMITTED} says why:
     * the roster file has it), and {@code MUSTER_ROSTER_ADDR0}, rank 0's advertised address.
     */
    public static Map<String, String> env(byte[] json) {
        java.util.List<Map<String, Object>> ranks = ranks(json);
        Map<String, String> out = new java.util.LinkedHashMap<>();
        StringBuilder hosts = new StringBuilder();
        for (Map<String, Object> r : ranks) {
            if (hosts.length() > 0) {
                hosts.append(',');
            }
            hosts.append(r.get("node"));
        }
        if (hosts.length() <= MAX_ENV) {
            out.put("MUSTER_HOSTS", hosts.toString());
        } else {
            out.put("MUSTER_HOSTS_OMITTED", "longer than " + MAX_ENV + " bytes; read MUSTER_ROSTER");
        }
        if (!ranks.isEmpty()) {
            out.put("MUSTER_ROSTER_ADDR0", String.valueOf(ranks.get(0).get("address")));
        }
        return out;
    }

    /** The roster's entries in rank order (a roster muster wrote: one rank per line). */
    @SuppressWarnings("unchecked")
    public static java.util.List<Map<String, Object>> ranks(byte[] json) {
        Object doc = dev.muster.json.JsonParser.parse(new String(json, StandardCharsets.UTF_8));
        if (!(doc instanceof Map<?, ?> m)
                || !(m.get("ranks") instanceof java.util.List<?> l)
                || !Long.valueOf(VERSION).equals(m.get("version"))) {
            throw dev.muster.core.MusterException.corrupt("the roster is not a muster roster of version " + VERSION);
        }
        return (java.util.List<Map<String, Object>>) l;
    }
}
