package dev.muster.rendezvous;

import dev.muster.core.MusterException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The variables a client gets for the names it resolved, as hpc-compose's clients get them. */
public final class ClientEnv {
    public static final String PREFIX = "HPC_COMPOSE_RDZV_";
    private static final String[] FIELDS = {"NAME", "URL", "HOST", "PORT", "PROTOCOL", "PATH", "JOB_ID", "SERVICE"};

    private ClientEnv() {}

    /**
     * Refuses two different names with the same environment token before anything is resolved: one set of
     * variables would silently describe the other endpoint.
     */
    public static void refuseTokenCollisions(List<String> names) {
        Map<String, String> byToken = new HashMap<>();
        for (String n : names) {
            String token = Names.envToken(n);
            String other = byToken.putIfAbsent(token, n);
            if (other != null && !other.equals(n)) {
                throw MusterException.usage("rendezvous names '" + other + "' and '" + n
                        + "' both map to environment token '" + token
                        + "'; choose names that map to distinct environment tokens");
            }
        }
    }

    /**
     * {@code HPC_COMPOSE_RDZV_<TOKEN>_*} for every record and the generic {@code HPC_COMPOSE_RDZV_*} describing the
     * last one; {@code resolved} is in command-line order, holding only the names that resolved. A null field
     * gives an empty value.
     */
    public static Map<String, String> of(List<Record> resolved) {
        refuseTokenCollisions(resolved.stream().map(Record::name).toList());
        Map<String, String> env = new LinkedHashMap<>();
        for (Record r : resolved) {
            put(env, PREFIX + Names.envToken(r.name()) + "_", r);
        }
        if (!resolved.isEmpty()) {
            put(env, PREFIX, resolved.get(resolved.size() - 1));
        }
        return env;
    }

    private static void put(Map<String, String> env, String prefix, Record r) {
        String[] values = {
            r.name(), r.url(), r.host(), Integer.toString(r.port()), r.protocol(), r.path(), r.jobId(), r.service()
        };
        for (int i = 0; i < FIELDS.length; i++) {
            env.put(prefix + FIELDS[i], values[i] == null ? "" : values[i]);
        }
    }
}
