package dev.muster.task;

import dev.muster.core.MusterException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The launcher's variables as {@link IdentityResolver} reads them: an empty variable counts as unset, a value
 * read is trimmed, a number must be a non-negative integer, and every value read records the variable it came
 * from (what {@code muster explain} prints).
 */
final class IdentityVars {
    private final Map<String, String> env;
    private final Map<String, String> sources = new LinkedHashMap<>();

    IdentityVars(Map<String, String> env) {
        this.env = env;
    }

    /** The raw value of {@code var}, or null. */
    String get(String var) {
        return env.get(var);
    }

    /** Records that the task's {@code field} came from {@code from} (a variable, "hostname", "default"). */
    void source(String field, String from) {
        sources.put(field, from);
    }

    /** Each field of the identity with the variable it came from, in the order they were read. */
    Map<String, String> sources() {
        return sources;
    }

    boolean has(String var) {
        String v = env.get(var);
        return v != null && !v.isEmpty();
    }

    String firstPresent(String... vars) {
        for (String v : vars) {
            if (has(v)) {
                return v;
            }
        }
        return vars[vars.length - 1];
    }

    String firstValue(String field, String... vars) {
        return value(field, firstPresent(vars));
    }

    String value(String field, String var) {
        String v = env.get(var);
        if (v == null || v.isEmpty()) {
            throw MusterException.identity(var + " is not set; it is needed for the task's " + field);
        }
        sources.put(field, var);
        return v.trim();
    }

    int number(String field, String var) {
        String v = value(field, var);
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw MusterException.identity(
                    var + "='" + v + "' is not a non-negative integer; it gives the task's " + field);
        }
    }

    int optionalNumber(String field, String var, int fallback) {
        if (!has(var)) {
            return fallback;
        }
        return number(field, var);
    }
}
