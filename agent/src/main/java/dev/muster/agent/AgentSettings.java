package dev.muster.agent;

import dev.muster.core.MusterException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
        List<String> clusters,
        String trace) {

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
            "cluster",
            "trace");

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

    /**
     * True unless {@code enabled} says false: read before anything else is validated, so that the kill switch
     * works even next to a broken setting.
     */
    static boolean enabled(SettingSource s) {
        String v = s.get("enabled");
        return v == null || !SettingSource.isFalse(v);
    }

    /** {@code onfailure=continue}, read leniently so that a bad option can honour it. */
    static boolean continueOnFailure(SettingSource s) {
        return "continue".equalsIgnoreCase(s.get("onfailure"));
    }

    static AgentSettings from(SettingSource s) {
        if (!s.errors().isEmpty()) {
            throw MusterException.usage(s.errors().get(0));
        }
        boolean goOn = onFailureContinues(s);
        boolean enabled = s.bool("enabled", true);
        Duration timeout = s.duration("timeout", "s", DEFAULT_TIMEOUT);
        Duration pollMax = s.duration("poll-max", "ms", DEFAULT_POLL_MAX);
        String syncDir = notEmpty(s, "sync-dir", "is empty; give a directory every node of the step sees");
        String name = s.get("name");
        if (name != null && !Patterns.BARRIER_NAME.matcher(name).matches()) {
            throw s.bad("name", "may hold only letters, digits, '_' and '-'");
        }
        boolean verbose = s.bool("verbose", false);
        boolean quiet = s.bool("quiet", false);
        int arrive = arrivePort(s);
        String[] await = awaitMethod(s);
        List<String> rendezvous = rendezvousNames(s);
        String register = s.get("register");
        if (register != null) {
            rendezvousName(s, "register", register);
        }
        int port = registerPort(s, register);
        String protocol = s.get("protocol");
        if (protocol != null && !protocol.matches("[A-Za-z][A-Za-z0-9+.-]*")) {
            throw s.bad("protocol", "is not a URL scheme such as http or tcp");
        }
        String path = s.get("path");
        if (path != null && !path.isEmpty() && !path.startsWith("/")) {
            throw s.bad("path", "must be empty or start with /");
        }
        long ttl = ttlSeconds(s);
        String cacheDir = notEmpty(s, "cache-dir", "is empty; give the rendezvous cache directory");
        List<String> clusters = clusters(s, arrive >= 0);
        boolean roster = s.bool("roster", false) || !clusters.isEmpty();
        String trace = notEmpty(s, "trace", "is empty; give the file to append this task's times to");
        return new AgentSettings(
                enabled,
                timeout,
                pollMax,
                syncDir,
                name,
                verbose,
                quiet,
                goOn,
                arrive >= 0,
                Math.max(arrive, 0),
                await == null ? null : await[0],
                await == null ? null : await[1],
                List.copyOf(rendezvous),
                register,
                port,
                protocol,
                path,
                ttl,
                cacheDir,
                roster,
                List.copyOf(clusters),
                trace);
    }

    /** {@code onfailure}: exit (the default) or continue. */
    private static boolean onFailureContinues(SettingSource s) {
        String onfailure = s.get("onfailure");
        if (onfailure != null && !onfailure.equalsIgnoreCase("exit") && !onfailure.equalsIgnoreCase("continue")) {
            throw s.bad("onfailure", "is neither exit nor continue");
        }
        return onfailure != null && onfailure.equalsIgnoreCase("continue");
    }

    /** The value of {@code key}, refused when given but empty. */
    private static String notEmpty(SettingSource s, String key, String problem) {
        String v = s.get(key);
        if (v != null && v.isEmpty()) {
            throw s.bad(key, problem);
        }
        return v;
    }

    /** {@code arrive}: -1 at main, 0 at the first bind of a listening socket, else the port whose bind counts. */
    private static int arrivePort(SettingSource s) {
        String arrive = s.get("arrive");
        if (arrive == null || arrive.equals("main")) {
            return -1;
        }
        if (arrive.equals("bind")) {
            return 0;
        }
        if (arrive.startsWith("bind:")) {
            return s.portNumber("arrive", arrive.substring(5));
        }
        throw s.bad("arrive", "is not main, bind or bind:PORT");
    }

    /** {@code await}: null for main, else the class and the method. */
    private static String[] awaitMethod(SettingSource s) {
        String await = s.get("await");
        if (await == null || await.equals("main")) {
            return null;
        }
        int hash = await.indexOf('#');
        if (hash <= 0
                || hash == await.length() - 1
                || !Patterns.JAVA_NAME.matcher(await.substring(0, hash)).matches()
                || !Patterns.JAVA_NAME.matcher(await.substring(hash + 1)).matches()
                || await.substring(hash + 1).contains(".")) {
            throw s.bad("await", "is not main or a method as com.example.Peers#connectAll");
        }
        return new String[] {await.substring(0, hash), await.substring(hash + 1)};
    }

    private static List<String> rendezvousNames(SettingSource s) {
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
        return rendezvous;
    }

    /** {@code port}: -1 unset, 0 {@code auto} (also when {@code register} is set without it), else the port. */
    private static int registerPort(SettingSource s, String register) {
        int port = -1;
        String p = s.get("port");
        if (p != null) {
            port = p.equals("auto") ? 0 : s.portNumber("port", p);
        }
        if (register != null && port < 0) {
            port = 0;
        }
        if (port >= 0 && register == null) {
            throw s.bad("port", "is set but register is not; add register=NAME or drop port");
        }
        return port;
    }

    private static long ttlSeconds(SettingSource s) {
        long ttl = DEFAULT_TTL_SECONDS;
        String t = s.get("ttl-seconds");
        if (t != null) {
            try {
                ttl = Long.parseLong(t);
            } catch (NumberFormatException e) {
                ttl = -1;
            }
            if (ttl < 3 || ttl > 7L * 24 * 3600) {
                throw s.bad("ttl-seconds", "is not a whole number of seconds between 3 and 604800");
            }
        }
        return ttl;
    }

    /** {@code cluster}: the libraries whose member list comes from the roster; they need main held. */
    private static List<String> clusters(SettingSource s, boolean onBind) {
        List<String> clusters = new ArrayList<>();
        String c = s.get("cluster");
        if (c != null) {
            for (String n : c.split(";", -1)) {
                String lib = n.trim().toLowerCase(Locale.ROOT);
                if (!lib.equals("hazelcast") && !lib.equals("jgroups")) {
                    throw s.bad("cluster", "names '" + lib + "'; use hazelcast, jgroups, or both as hazelcast;jgroups");
                }
                clusters.add(lib);
            }
            if (onBind) {
                // the library reads its member list when the application starts it, before it binds
                throw s.bad("cluster", "needs main held until the release; drop arrive=bind (or use await=)");
            }
        }
        return clusters;
    }

    private static void rendezvousName(SettingSource s, String key, String n) {
        if (!Patterns.RDZV_NAME.matcher(n).matches() || n.equals(".") || n.equals("..")) {
            throw MusterException.usage(s.origin(key) + ": '" + n + "' is not a rendezvous name; use letters, "
                    + "digits, '.', '_' and '-'" + (key.equals("rendezvous") ? ", and ';' between names" : ""));
        }
    }
}
