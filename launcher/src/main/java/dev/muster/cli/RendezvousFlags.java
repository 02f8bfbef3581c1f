package dev.muster.cli;

import dev.muster.core.MusterException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code run}'s rendezvous options, as plain values: parsing them loads none of the rendezvous classes, so a
 * {@code run} without them starts as light as before.
 */
final class RendezvousFlags {
    static final Duration DEFAULT_CLIENT_TIMEOUT = Duration.ofSeconds(30);

    // provider
    String register;
    Integer port;
    String protocol = "http";
    String path;
    String service;
    Long ttlSeconds;
    final Map<String, String> metadata = new LinkedHashMap<>();
    String ready;
    Duration readyTimeout;
    int registerRank;
    String host;
    // client: names in command-line order; required ones first seen win over optional ones
    final Map<String, Boolean> names = new LinkedHashMap<>();
    Duration clientTimeout = DEFAULT_CLIENT_TIMEOUT;
    boolean verify;
    // both
    String cacheDir;
    String keyFile;

    boolean provider() {
        return register != null;
    }

    boolean client() {
        return !names.isEmpty();
    }

    /** Reads one rendezvous option; false when {@code flag} is not one. */
    boolean read(String flag, Args a) {
        switch (flag) {
            case "--register" -> register = a.value(flag);
            case "--port" -> port = a.integer(flag, 1, 65535);
            case "--protocol" -> {
                protocol = a.value(flag);
                if (protocol.isBlank()) {
                    throw MusterException.usage("run: --protocol is empty; give e.g. http, https or tcp");
                }
            }
            case "--path" -> path = a.value(flag);
            case "--service" -> service = a.value(flag);
            case "--ttl-seconds" -> ttlSeconds = (long) a.integer(flag, 1, Integer.MAX_VALUE);
            case "--metadata" -> {
                String v = a.value(flag);
                int eq = v.indexOf('=');
                if (eq <= 0) {
                    throw MusterException.usage("run: --metadata '" + v + "' is not KEY=VALUE");
                }
                metadata.put(v.substring(0, eq), v.substring(eq + 1));
            }
            case "--ready" -> ready = a.value(flag);
            case "--ready-timeout" -> readyTimeout = a.duration(flag, "s");
            case "--register-rank" -> registerRank = a.integer(flag, 0, Integer.MAX_VALUE);
            case "--host" -> {
                host = a.value(flag);
                if (host.isBlank()) {
                    throw MusterException.usage("run: --host is empty; give the name clients reach this node by");
                }
            }
            case "--rendezvous" -> {
                for (String n : a.value(flag).split(",", -1)) {
                    names.put(n.trim(), true);
                }
            }
            case "--optional" -> {
                for (String n : a.value(flag).split(",", -1)) {
                    names.putIfAbsent(n.trim(), false);
                }
            }
            case "--rendezvous-timeout" -> clientTimeout = a.duration(flag, "s");
            case "--verify" -> {
                a.noValue(flag);
                verify = true;
            }
            case "--key-file" -> keyFile = a.value(flag);
            case "--cache-dir" -> {
                cacheDir = a.value(flag);
                if (cacheDir.isEmpty()) {
                    throw MusterException.usage(
                            "run: --cache-dir is empty; give the shared rendezvous cache directory");
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Options that mean nothing without {@code --register} are refused rather than silently ignored. */
    void check() {
        if (register == null) {
            List<String> stray = new ArrayList<>();
            if (port != null) {
                stray.add("--port");
            }
            if (ready != null) {
                stray.add("--ready");
            }
            if (ttlSeconds != null) {
                stray.add("--ttl-seconds");
            }
            if (!metadata.isEmpty()) {
                stray.add("--metadata");
            }
            if (registerRank != 0) {
                stray.add("--register-rank");
            }
            if (readyTimeout != null) {
                stray.add("--ready-timeout");
            }
            if (!stray.isEmpty()) {
                throw MusterException.usage("run: " + String.join(", ", stray) + " only mean something with "
                        + "--register NAME; add it or drop them");
            }
        } else if (port == null) {
            throw MusterException.usage("run: --register " + register + " needs --port P, the port clients connect to");
        }
        if (!names.isEmpty() || register != null) {
            return;
        }
        if (verify) {
            throw MusterException.usage("run: --verify only means something with --rendezvous NAME");
        }
    }
}
