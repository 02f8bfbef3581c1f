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
import java.util.regex.Pattern;

/**
 * The agent's settings, each read from the agent argument ({@code key=value,key=value}), else the system property
 * {@code muster.<key>}, else the environment variable {@code MUSTER_<KEY>} (upper case, {@code .} and {@code -}
 * turned into {@code _}), else the default. Validated once, here; every error names the setting, where it came
 * from, and the fix.
 *
 * @param arrivePort  with {@code arrive=bind:PORT}, the port whose bind counts; 0 for any listening socket
 * @param awaitClass  with {@code await=Cls#method}, the class; null for {@code await=main}
 * @param port        the port to register: -1 unset, 0 {@code auto} (the port the application binds), else the port
 */
public record AgentSettings(
        boolean enabled,
        Duration timeout,
        Duration pollMax,
        String syncDir,
        String name,
        boolean verbose,
        boolean quiet,
        boolean continueOnFailure,
        boolean arriveOnBind,
        int arrivePort,
        String awaitClass,
        String awaitMethod,
        List<String> rendezvous,
        String register,
        int port,
        String protocol,
        String path,
        long ttlSeconds,
        String cacheDir,
        boolean roster,
        List<String> clusters) {

    /** Every key the agent knows, in the order the README lists them. */
    public static final List<String> KEYS = List.of(
            "enabled",
            "timeout",
            "poll-max",
            "sync-dir",
            "name",
            "verbose",
            "quiet",
            "onfailure",
            "arrive",
            "await",
            "rendezvous",
            "register",
            "port",
            "protocol",
            "path",
            "ttl-seconds",
            "cache-dir",
            "roster",
            "cluster");

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(600);
    static final Duration DEFAULT_POLL_MAX = Duration.ofMillis(100);
    static final long DEFAULT_TTL_SECONDS = 120;

    /**
     * Compiled on first use: most settings name no class, rendezvous or barrier, and compiling these patterns
     * in every premain cost a cold JVM milliseconds before main.
     */
    private static final class Patterns {
        static final Pattern JAVA_NAME = Pattern.compile(
                "[\\p{javaJavaIdentifierStart}][\\p{javaJavaIdentifierPart}]*(\\.[\\p{javaJavaIdentifierStart}]"
                        + "[\\p{javaJavaIdentifierPart}]*)*");
        static final Pattern RDZV_NAME = Pattern.compile("[A-Za-z0-9._-]+");
        static final Pattern BARRIER_NAME = Pattern.compile("[A-Za-z0-9_-]+");
    }

    public boolean needsInstrumentation() {
        return arriveOnBind || awaitClass != null || (register != null && port == 0);
    }

    /** The raw values and where each came from, before validation. */
    static final class Source {
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
            if (!KEYS.contains(key)) {
                errors.add("unknown agent option '" + key + "'; known options: " + String.join(", ", KEYS));
            } else if (out.containsKey(key)) {
                errors.add("agent option '" + key + "' is given twice; give it once");
            } else {
                out.put(key, p.substring(eq + 1).trim());
            }
        }
        return out;
    }

    /** Agent argument > {@code -Dmuster.<key>} > {@code MUSTER_<KEY>}. */
    static Source collect(String agentArgs, Properties props, Map<String, String> env) {
        Source s = new Source();
        Map<String, String> args = parseArgs(agentArgs, s.errors);
        for (String key : KEYS) {
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

    /**
     * True unless {@code enabled} says false: read before anything else is validated, so that the kill switch
     * works even next to a broken setting.
     */
    static boolean enabled(Source s) {
        String v = s.get("enabled");
        return v == null || !isFalse(v);
    }

    /** {@code onfailure=continue}, read leniently so that a bad option can honour it. */
    static boolean continueOnFailure(Source s) {
        return "continue".equalsIgnoreCase(s.get("onfailure"));
    }

    static AgentSettings from(Source s) {
        if (!s.errors.isEmpty()) {
            throw MusterException.usage(s.errors.get(0));
        }
        String onfailure = s.get("onfailure");
        if (onfailure != null && !onfailure.equalsIgnoreCase("exit") && !onfailure.equalsIgnoreCase("continue")) {
            throw bad(s, "onfailure", "is neither exit nor continue");
        }
        boolean enabled = bool(s, "enabled", true);
        Duration timeout = duration(s, "timeout", "s", DEFAULT_TIMEOUT);
        Duration pollMax = duration(s, "poll-max", "ms", DEFAULT_POLL_MAX);
        String syncDir = s.get("sync-dir");
        if (syncDir != null && syncDir.isEmpty()) {
            throw bad(s, "sync-dir", "is empty; give a directory every node of the step sees");
        }
        String name = s.get("name");
        if (name != null && !Patterns.BARRIER_NAME.matcher(name).matches()) {
            throw bad(s, "name", "may hold only letters, digits, '_' and '-'");
        }
        boolean verbose = bool(s, "verbose", false);
        boolean quiet = bool(s, "quiet", false);

        boolean onBind = false;
        int arrivePort = 0;
        String arrive = s.get("arrive");
        if (arrive != null && !arrive.equals("main")) {
            if (arrive.equals("bind")) {
                onBind = true;
            } else if (arrive.startsWith("bind:")) {
                onBind = true;
                arrivePort = portNumber(s, "arrive", arrive.substring(5));
            } else {
                throw bad(s, "arrive", "is not main, bind or bind:PORT");
            }
        }

        String awaitClass = null;
        String awaitMethod = null;
        String await = s.get("await");
        if (await != null && !await.equals("main")) {
            int hash = await.indexOf('#');
            if (hash <= 0
                    || hash == await.length() - 1
                    || !Patterns.JAVA_NAME.matcher(await.substring(0, hash)).matches()
                    || !Patterns.JAVA_NAME.matcher(await.substring(hash + 1)).matches()
                    || await.substring(hash + 1).contains(".")) {
                throw bad(s, "await", "is not main or a method as com.example.Peers#connectAll");
            }
            awaitClass = await.substring(0, hash);
            awaitMethod = await.substring(hash + 1);
        }

        List<String> rendezvous = new ArrayList<>();
        String r = s.get("rendezvous");
        if (r != null) {
            for (String n : r.split(";", -1)) {
                String t = n.trim();
                if (!t.isEmpty()) {
                    rendezvousName(s, "rendezvous", t);
                    rendezvous.add(t);
                }
            }
        }
        String register = s.get("register");
        if (register != null) {
            rendezvousName(s, "register", register);
        }
        int port = -1;
        String p = s.get("port");
        if (p != null) {
            port = p.equals("auto") ? 0 : portNumber(s, "port", p);
        }
        if (register != null && port < 0) {
            port = 0;
        }
        if (port >= 0 && register == null) {
            throw bad(s, "port", "is set but register is not; add register=NAME or drop port");
        }
        String protocol = s.get("protocol");
        if (protocol != null && !protocol.matches("[A-Za-z][A-Za-z0-9+.-]*")) {
            throw bad(s, "protocol", "is not a URL scheme such as http or tcp");
        }
        String path = s.get("path");
        if (path != null && !path.isEmpty() && !path.startsWith("/")) {
            throw bad(s, "path", "must be empty or start with /");
        }
        long ttl = DEFAULT_TTL_SECONDS;
        String t = s.get("ttl-seconds");
        if (t != null) {
            try {
                ttl = Long.parseLong(t);
            } catch (NumberFormatException e) {
                ttl = -1;
            }
            if (ttl < 3 || ttl > 7L * 24 * 3600) {
                throw bad(s, "ttl-seconds", "is not a whole number of seconds between 3 and 604800");
            }
        }
        String cacheDir = s.get("cache-dir");
        if (cacheDir != null && cacheDir.isEmpty()) {
            throw bad(s, "cache-dir", "is empty; give the rendezvous cache directory");
        }
        List<String> clusters = new ArrayList<>();
        String c = s.get("cluster");
        if (c != null) {
            for (String n : c.split(";", -1)) {
                String lib = n.trim().toLowerCase(Locale.ROOT);
                if (!lib.equals("hazelcast") && !lib.equals("jgroups")) {
                    throw bad(
                            s,
                            "cluster",
                            "names '" + lib + "'; use hazelcast, jgroups, or both as " + "hazelcast;jgroups");
                }
                clusters.add(lib);
            }
            if (onBind) {
                // the library reads its member list when the application starts it, before it binds
                throw bad(s, "cluster", "needs main held until the release; drop arrive=bind (or use await=)");
            }
        }
        boolean roster = bool(s, "roster", false) || !clusters.isEmpty();
        return new AgentSettings(
                enabled,
                timeout,
                pollMax,
                syncDir,
                name,
                verbose,
                quiet,
                onfailure != null && onfailure.equalsIgnoreCase("continue"),
                onBind,
                arrivePort,
                awaitClass,
                awaitMethod,
                List.copyOf(rendezvous),
                register,
                port,
                protocol,
                path,
                ttl,
                cacheDir,
                roster,
                List.copyOf(clusters));
    }

    private static void rendezvousName(Source s, String key, String n) {
        if (!Patterns.RDZV_NAME.matcher(n).matches() || n.equals(".") || n.equals("..")) {
            throw MusterException.usage(s.origin(key) + ": '" + n + "' is not a rendezvous name; use letters, "
                    + "digits, '.', '_' and '-'" + (key.equals("rendezvous") ? ", and ';' between names" : ""));
        }
    }

    private static int portNumber(Source s, String key, String v) {
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > 65535) {
            throw bad(s, key, "has no port number between 1 and 65535" + (key.equals("port") ? " (or auto)" : ""));
        }
        return n;
    }

    private static boolean bool(Source s, String key, boolean fallback) {
        String v = s.get(key);
        if (v == null) {
            return fallback;
        }
        if (isFalse(v)) {
            return false;
        }
        if (v.equalsIgnoreCase("true") || v.equals("1") || v.equalsIgnoreCase("yes")) {
            return true;
        }
        throw bad(s, key, "is not true or false");
    }

    private static boolean isFalse(String v) {
        return v.equalsIgnoreCase("false") || v.equals("0") || v.equalsIgnoreCase("no");
    }

    private static Duration duration(Source s, String key, String bareUnit, Duration fallback) {
        String v = s.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Durations.parse(v, bareUnit);
        } catch (Durations.Invalid e) {
            throw bad(
                    s,
                    key,
                    e.tooLong()
                            ? e.getMessage()
                            : e.getMessage() + " (a bare number is "
                                    + (bareUnit.equals("s") ? "seconds" : "milliseconds") + ")");
        }
    }

    private static MusterException bad(Source s, String key, String problem) {
        return MusterException.usage(s.origin(key) + "='" + s.get(key) + "' " + problem);
    }
}
