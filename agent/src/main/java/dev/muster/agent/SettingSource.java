package dev.muster.agent;

import dev.muster.core.Durations;
import dev.muster.core.MusterException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The agent's settings as given, before validation: each raw value with where it came from (agent argument,
 * {@code -Dmuster.<key>}, {@code MUSTER_<KEY>}), and the typed reads whose errors name both.
 */
final class SettingSource {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> origins = new LinkedHashMap<>();
    private final List<String> errors = new ArrayList<>();

    String get(String key) {
        return values.get(key);
    }

    String origin(String key) {
        return origins.get(key);
    }

    void put(String key, String value, String origin) {
        values.put(key, value);
        origins.put(key, origin);
    }

    /** Problems of the agent argument itself (unknown key, no value, a key twice), in the order found. */
    List<String> errors() {
        return errors;
    }

    /**
     * Splits {@code key=value,key=value} (empty or null: no options). Problems (unknown key, no value, a key
     * twice) are kept in {@code errors} rather than thrown, so that {@code enabled=false} and
     * {@code onfailure=continue} still count next to them.
     */
    static Map<String, String> parseArgs(String args, List<String> errors) {
        Map<String, String> out = new LinkedHashMap<>();
        if (args == null || args.isBlank()) {
            return out;
        }
        for (String part : args.split(",", -1)) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0) {
                errors.add("agent option '" + p + "' has no value; write key=value, e.g. "
                        + "-javaagent:muster-agent.jar=timeout=60s,verbose=true");
                continue;
            }
            String key = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            if (!AgentSettings.KEYS.contains(key)) {
                errors.add(
                        "unknown agent option '" + key + "'; known options: " + String.join(", ", AgentSettings.KEYS));
            } else if (out.containsKey(key)) {
                errors.add("agent option '" + key + "' is given twice; give it once");
            } else {
                out.put(key, p.substring(eq + 1).trim());
            }
        }
        return out;
    }

    /** Agent argument > {@code -Dmuster.<key>} > {@code MUSTER_<KEY>}. */
    static SettingSource collect(String agentArgs, Properties props, Map<String, String> env) {
        SettingSource s = new SettingSource();
        Map<String, String> args = parseArgs(agentArgs, s.errors);
        for (String key : AgentSettings.KEYS) {
            String prop = "muster." + key;
            String var = envName(key);
            if (args.containsKey(key)) {
                s.put(key, args.get(key), "agent option " + key);
            } else if (props.getProperty(prop) != null) {
                s.put(key, props.getProperty(prop).trim(), "-D" + prop);
            } else if (env.get(var) != null && !env.get(var).isEmpty()) {
                s.put(key, env.get(var).trim(), var);
            }
        }
        return s;
    }

    static String envName(String key) {
        return "MUSTER_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    int portNumber(String key, String v) {
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > 65535) {
            throw bad(key, "has no port number between 1 and 65535" + (key.equals("port") ? " (or auto)" : ""));
        }
        return n;
    }

    boolean bool(String key, boolean fallback) {
        String v = get(key);
        if (v == null) {
            return fallback;
        }
        if (isFalse(v)) {
            return false;
        }
        if (v.equalsIgnoreCase("true") || v.equals("1") || v.equalsIgnoreCase("yes")) {
            return true;
        }
        throw bad(key, "is not true or false");
    }

    static boolean isFalse(String v) {
        return v.equalsIgnoreCase("false") || v.equals("0") || v.equalsIgnoreCase("no");
    }

    Duration duration(String key, String bareUnit, Duration fallback) {
        String v = get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Durations.parse(v, bareUnit);
        } catch (Durations.Invalid e) {
            throw bad(
                    key,
                    e.tooLong()
                            ? e.getMessage()
                            : e.getMessage() + " (a bare number is "
                                    + (bareUnit.equals("s") ? "seconds" : "milliseconds") + ")");
        }
    }

    /** A usage error naming the setting, where it came from, and its value. */
    MusterException bad(String key, String problem) {
        return MusterException.usage(origin(key) + "='" + get(key) + "' " + problem);
    }
}
