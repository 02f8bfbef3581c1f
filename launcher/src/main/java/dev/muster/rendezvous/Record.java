package dev.muster.rendezvous;

import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import dev.muster.json.Json;
import dev.muster.json.JsonException;
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
        refuseControlCharacters(jobId, host, protocol, path, service);
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

    private static void refuseControlCharacters(
            String jobId, String host, String protocol, String path, String service) {
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

    /** {@link #parse}, keeping the signature field ({@link RecordReader}). */
    public static Signed parseSigned(String text, String source) {
        return RecordReader.read(text, source);
    }
}
