package dev.muster.rendezvous;

import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import dev.muster.json.Json;
import dev.muster.json.JsonException;
import dev.muster.json.JsonParser;
import java.math.BigInteger;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One provider registration: hpc-compose's rendezvous record, schema_version 1 (DESIGN §5, a contract). Fields
 * keep what the file said: {@code service} and {@code path} may be null or empty, as either tool may write them.
 *
 * @param metadata sorted, so that the written layout is the same whatever order the caller supplied
 */
public record Record(
        int schemaVersion,
        String name,
        String jobId,
        String service,
        String host,
        int port,
        String protocol,
        String path,
        String url,
        long registeredAt,
        long ttlSeconds,
        String cacheDir,
        SortedMap<String, String> metadata) {

    public static final int SCHEMA_VERSION = 1;

    public Record {
        metadata = Collections.unmodifiableSortedMap(metadata == null ? new TreeMap<>() : new TreeMap<>(metadata));
    }

    /**
     * A new record from a provider's values, validated with hpc-compose's messages in its order (name first, then
     * job id, host, port, protocol, ttl, path). An empty path becomes null, as hpc-compose writes it.
     *
     * @throws MusterException (usage) naming the first invalid value
     */
    public static Record create(
            String name,
            String jobId,
            String service,
            String host,
            int port,
            String protocol,
            String path,
            long registeredAt,
            long ttlSeconds,
            String cacheDir,
            Map<String, String> metadata) {
        Names.validate(name);
        if (jobId == null || jobId.isBlank()) {
            throw MusterException.usage("rendezvous job id must not be empty");
        }
        if (host == null || host.isBlank()) {
            throw MusterException.usage("rendezvous host must not be empty");
        }
        if (port < 1) {
            throw MusterException.usage("rendezvous port must be at least 1");
        }
        if (port > 65535) {
            throw MusterException.usage("rendezvous port " + port + " is above 65535");
        }
        if (protocol == null || protocol.isBlank()) {
            throw MusterException.usage("rendezvous protocol must not be empty");
        }
        if (ttlSeconds < 1) {
            throw MusterException.usage("rendezvous ttl must be at least 1 second");
        }
        for (String[] v : new String[][] {
            {"job id", jobId}, {"host", host}, {"protocol", protocol}, {"path", path}, {"service", service}
        }) {
            for (int i = 0; v[1] != null && i < v[1].length(); i++) {
                if (SafeText.unsafe(v[1], i)) {
                    // never part of a real endpoint; in a record it could only forge a client's output
                    throw MusterException.usage("rendezvous " + v[0] + " must not contain control characters");
                }
            }
        }
        String p = path == null || path.isEmpty() ? null : path;
        if (p != null && !p.startsWith("/")) {
            throw MusterException.usage("rendezvous path must be empty or start with '/'");
        }
        String s = service == null || service.isEmpty() ? null : service;
        String url = protocol + "://" + host + ":" + port + (p == null ? "" : p);
        return new Record(
                SCHEMA_VERSION,
                name,
                jobId,
                s,
                host,
                port,
                protocol,
                p,
                url,
                registeredAt,
                ttlSeconds,
                cacheDir,
                metadata == null ? null : new TreeMap<>(metadata));
    }

    /** Live iff {@code now - registered_at < ttl_seconds}; a registration from the future counts as live. */
    public boolean isLive(long nowSeconds) {
        return secondsLeft(nowSeconds) > 0;
    }

    /** Seconds until the record expires, never negative. */
    public long secondsLeft(long nowSeconds) {
        long age = Math.max(0, nowSeconds - registeredAt);
        return Math.max(0, ttlSeconds - age);
    }

    public boolean hasService() {
        return service != null && !service.isEmpty();
    }

    /** The fields in the contract's order, for {@link Json#pretty}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schema_version", schemaVersion);
        m.put("name", name);
        m.put("job_id", jobId);
        m.put("service", service);
        m.put("host", host);
        m.put("port", port);
        m.put("protocol", protocol);
        m.put("path", path);
        m.put("url", url);
        m.put("registered_at", registeredAt);
        m.put("ttl_seconds", ttlSeconds);
        m.put("cache_dir", cacheDir);
        m.put("metadata", metadata);
        return m;
    }

    /**
     * The file's exact bytes (as a string): one top-level field per line, because hpc-compose's batch scripts
     * find fields with a line-oriented reader; no trailing newline, as its writer leaves none.
     */
    public String toJson() {
        return Json.pretty(toMap());
    }

    /**
     * Reads a record written by any compatible tool: any field order, unknown fields ignored, {@code service},
     * {@code path} and {@code metadata} optional. Refuses what hpc-compose's reader refuses (a numeric job_id,
     * negative or fractional numbers, a port above 65535, a non-string metadata value).
     *
     * @param source names the file in messages
     * @throws MusterException (corrupt) naming {@code source} and the problem
     * @throws JsonException when the text stopped early, so that the caller can tell a short read from damage
     */
    public static Record parse(String text, String source) {
        return parseSigned(text, source).record();
    }

    /** The top-level field that carries a record's signature (see {@link RecordKey}); every reader ignores it. */
    public static final String SIGNATURE_FIELD = "muster_signature";

    /** A record as read, with its signature field, or null when it has none. */
    public record Signed(Record record, String signature) {}

    /**
     * The file's bytes with a signature: the field goes just before {@code metadata}, on a line of its own, so
     * that metadata stays last and hpc-compose's line reader, which looks only for its own field names, never
     * sees it; JSON readers ignore unknown fields.
     */
    public String toJson(String signature) {
        Map<String, Object> m = toMap();
        Object md = m.remove("metadata");
        m.put(SIGNATURE_FIELD, signature);
        m.put("metadata", md);
        return Json.pretty(m);
    }

    /** {@link #parse}, keeping the signature field. */
    public static Signed parseSigned(String text, String source) {
        Object root;
        try {
            root = JsonParser.parse(text);
        } catch (JsonException e) {
            if (e.endOfInput()) {
                throw e;
            }
            throw corrupt(source, "is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> m)) {
            throw corrupt(source, "is not a JSON object");
        }
        long version = unsigned(m, "schema_version", source, 0xFFFF_FFFFL);
        if (version != SCHEMA_VERSION) {
            throw corrupt(
                    source, "has schema_version " + version + ", but muster reads only version " + SCHEMA_VERSION);
        }
        SortedMap<String, String> metadata = new TreeMap<>();
        Object md = m.get("metadata");
        if (md != null) {
            if (!(md instanceof Map<?, ?> mdMap)) {
                throw corrupt(source, "field metadata must be an object of strings");
            }
            for (Map.Entry<?, ?> e : mdMap.entrySet()) {
                if (!(e.getValue() instanceof String v)) {
                    throw corrupt(
                            source,
                            "metadata value for key " + SafeText.quote((String) e.getKey()) + " must be a string");
                }
                metadata.put((String) e.getKey(), v);
            }
        }
        Object signature = m.get(SIGNATURE_FIELD);
        if (signature != null && !(signature instanceof String)) {
            throw corrupt(source, "field " + SIGNATURE_FIELD + " must be a string, got " + describe(signature));
        }
        for (String field : PRINTED) {
            if (m.get(field) instanceof String v) {
                refuseUnsafe(v, field, source);
            }
        }
        String name = string(m, "name", source);
        try {
            Names.validate(name);
        } catch (MusterException e) {
            // the command line's rules hold for names from files too: a name is a path component and a token
            throw corrupt(
                    source, "field name " + SafeText.quote(name) + " is not a valid name (" + e.getMessage() + ")");
        }
        return new Signed(
                new Record(
                        (int) version,
                        name,
                        string(m, "job_id", source),
                        optionalString(m, "service", source),
                        string(m, "host", source),
                        (int) unsigned(m, "port", source, 65535),
                        string(m, "protocol", source),
                        optionalString(m, "path", source),
                        string(m, "url", source),
                        unsigned(m, "registered_at", source, Long.MAX_VALUE),
                        unsigned(m, "ttl_seconds", source, Long.MAX_VALUE),
                        string(m, "cache_dir", source),
                        metadata),
                (String) signature);
    }

    /**
     * The fields that clients print, export and connect to. A control character there (a newline, an escape,
     * a NUL, which no environment variable can even hold) is never part of a real endpoint; it can only forge an
     * output line, a terminal sequence or a shell word, so a record holding one is refused as damaged. Metadata
     * values are left as they are: muster never prints or exports them as text.
     */
    private static final String[] PRINTED = {"job_id", "service", "host", "protocol", "path", "url"};

    private static void refuseUnsafe(String v, String field, String source) {
        for (int i = 0; i < v.length(); i++) {
            if (SafeText.unsafe(v, i)) {
                throw corrupt(
                        source,
                        "field " + field + " holds the control character " + SafeText.quote(String.valueOf(v.charAt(i)))
                                + " at position " + i);
            }
        }
    }

    private static String string(Map<?, ?> m, String field, String source) {
        if (!m.containsKey(field)) {
            throw corrupt(source, "lacks the field " + field);
        }
        if (!(m.get(field) instanceof String s)) {
            throw corrupt(source, "field " + field + " must be a string, got " + describe(m.get(field)));
        }
        return s;
    }

    private static String optionalString(Map<?, ?> m, String field, String source) {
        Object v = m.get(field);
        if (v == null || v instanceof String) {
            return (String) v;
        }
        throw corrupt(source, "field " + field + " must be a string or null, got " + describe(v));
    }

    private static long unsigned(Map<?, ?> m, String field, String source, long max) {
        if (!m.containsKey(field)) {
            throw corrupt(source, "lacks the field " + field);
        }
        Object v = m.get(field);
        if (v instanceof Long n) {
            if (n < 0) {
                throw corrupt(source, "field " + field + " must not be negative, got " + n);
            }
            if (n > max) {
                throw corrupt(source, "field " + field + " is " + n + ", above its maximum " + max);
            }
            return n;
        }
        if (v instanceof BigInteger big) {
            throw corrupt(source, "field " + field + " is " + SafeText.field(big.toString(), 40) + ", out of range");
        }
        throw corrupt(source, "field " + field + " must be a whole number, got " + describe(v));
    }

    private static String describe(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String s) {
            return "the string " + SafeText.quote(s);
        }
        if (v instanceof Map) {
            return "an object";
        }
        if (v instanceof java.util.List) {
            return "an array";
        }
        return v.toString();
    }

    private static MusterException corrupt(String source, String problem) {
        return MusterException.corrupt("rendezvous record " + source + " " + problem + "; remove it or register again");
    }
}
