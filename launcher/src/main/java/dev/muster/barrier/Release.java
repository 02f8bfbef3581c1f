package dev.muster.barrier;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What every task gets with the release, besides the release itself: the data rank 0 hands out (rank 0's
 * address, the port for a training framework's store, environment to export, rendezvous results). These are the
 * {@code d.<key>=} lines of the outcome ({@link Outcome}); this class is the one place their keys are defined, for
 * {@code run} and the agent alike.
 */
public final class Release {
    /** Rank 0's address as the other nodes reach it. */
    public static final String MASTER_ADDR = "master_addr";
    /** A free port on rank 0 (for torchrun-style MASTER_PORT). */
    public static final String MASTER_PORT = "master_port";
    /** {@code env.NAME}: export NAME with this value in every task. */
    static final String ENV = "env.";
    /** {@code rdzv.<name>.<field>}: a rendezvous name rank 0 resolved ({@link #RDZV_FIELDS}). */
    static final String RDZV = "rdzv.";
    /** The fields of a resolved rendezvous record that the release carries. */
    public static final String[] RDZV_FIELDS = {"url", "host", "port", "protocol", "path", "job_id"};

    private Release() {}

    /** Adds {@code vars} as variables every task exports. */
    public static void putEnv(Map<String, String> data, Map<String, String> vars) {
        for (Map.Entry<String, String> e : vars.entrySet()) {
            data.put(ENV + e.getKey(), e.getValue());
        }
    }

    /** The variables every task exports. */
    public static Map<String, String> env(Map<String, String> data) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : data.entrySet()) {
            if (e.getKey().startsWith(ENV)) {
                out.put(e.getKey().substring(ENV.length()), e.getValue());
            }
        }
        return out;
    }

    /** Adds the result of resolving rendezvous {@code name}: one value per field of {@link #RDZV_FIELDS}. */
    public static void putRendezvous(
            Map<String, String> data,
            String name,
            String url,
            String host,
            int port,
            String protocol,
            String path,
            String jobId) {
        String p = RDZV + name + ".";
        data.put(p + "url", url);
        data.put(p + "host", host);
        data.put(p + "port", Integer.toString(port));
        data.put(p + "protocol", protocol);
        data.put(p + "path", path == null ? "" : path);
        data.put(p + "job_id", jobId);
    }

    /** One field of rendezvous {@code name}'s result, or null when the release does not carry it. */
    public static String rendezvous(Map<String, String> data, String name, String field) {
        return data.get(RDZV + name + "." + field);
    }
}
