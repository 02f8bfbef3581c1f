package dev.muster.json;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The small JSON writer muster owns (see the pom for why there is no JSON library). {@link #pretty} lays a value
 * out exactly as serde_json's pretty printer does, because hpc-compose's tools and batch scripts read muster's
 * files and output: two-space indent, {@code "key": value}, one member or element per line, {@code {}} and
 * {@code []} when empty, no trailing newline.
 */
public final class Json {
    private Json() {}

    /** {@code s} as a JSON string literal, escaped as serde_json escapes it. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2);
        quote(b, s);
        return b.toString();
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /**
     * {@code value} in serde_json's pretty layout. Accepts maps with string keys (written in their iteration
     * order: pass a sorted map where order matters), lists, strings, booleans, integral numbers and null.
     */
    public static String pretty(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, 0);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v, int indent) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String str) {
            quote(b, str);
        } else if (v instanceof Boolean
                || v instanceof Integer
                || v instanceof Long
                || v instanceof java.math.BigInteger) {
            b.append(v);
        } else if (v instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                b.append("{}");
                return;
            }
            b.append("{\n");
            Iterator<? extends Map.Entry<?, ?>> it = map.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
                }
                indent(b, indent + 1);
                quote(b, key);
                b.append(": ");
                write(b, e.getValue(), indent + 1);
                b.append(it.hasNext() ? ",\n" : "\n");
            }
            indent(b, indent);
            b.append('}');
        } else if (v instanceof List<?> list) {
            if (list.isEmpty()) {
                b.append("[]");
                return;
            }
            b.append("[\n");
            for (int i = 0; i < list.size(); i++) {
                indent(b, indent + 1);
                write(b, list.get(i), indent + 1);
                b.append(i + 1 < list.size() ? ",\n" : "\n");
            }
            indent(b, indent);
            b.append(']');
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    private static void indent(StringBuilder b, int levels) {
        for (int i = 0; i < levels; i++) {
            b.append("  ");
        }
    }
}
