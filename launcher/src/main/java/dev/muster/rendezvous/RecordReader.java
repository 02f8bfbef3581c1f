package dev.muster.rendezvous;

import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import dev.muster.json.JsonException;
import dev.muster.json.JsonParser;
import java.math.BigInteger;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reads a {@link Record} written by any compatible tool (any field order, unknown fields ignored) and refuses what
 * hpc-compose's reader refuses, with messages that name the file and the field.
 */
final class RecordReader {
    private RecordReader() {}

    /** {@link Record#parseSigned}: the record and its signature field, or the first problem. */
    static Record.Signed read(String text, String source) {
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
        if (version != Record.SCHEMA_VERSION) {
            throw corrupt(
                    source,
                    "has schema_version " + version + ", but muster reads only version " + Record.SCHEMA_VERSION);
        }
        SortedMap<String, String> metadata = metadata(m, source);
        Object signature = m.get(Record.SIGNATURE_FIELD);
        if (signature != null && !(signature instanceof String)) {
            throw corrupt(source, "field " + Record.SIGNATURE_FIELD + " must be a string, got " + describe(signature));
        }
        for (String field : PRINTED) {
            if (m.get(field) instanceof String v) {
                refuseUnsafe(v, field, source);
            }
        }
        String name = name(m, source);
        return new Record.Signed(
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

    private static SortedMap<String, String> metadata(Map<?, ?> m, String source) {
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
        return metadata;
    }

    private static String name(Map<?, ?> m, String source) {
        String name = string(m, "name", source);
        try {
            Names.validate(name);
        } catch (MusterException e) {
            // the command line's rules hold for names from files too: a name is a path component and a token
            throw corrupt(
                    source, "field name " + SafeText.quote(name) + " is not a valid name (" + e.getMessage() + ")");
        }
        return name;
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
