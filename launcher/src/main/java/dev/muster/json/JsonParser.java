package dev.muster.json;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON (RFC 8259) reader for the small documents muster exchanges. Values become {@code Map<String,
 * Object>} (insertion-ordered), {@code List<Object>}, {@code String}, {@code Boolean}, {@code null}, and numbers:
 * {@code Long} for integers that fit, {@code BigInteger} for larger ones, {@code Double} for anything with a
 * fraction or exponent, so a caller can tell {@code 8000} from {@code 8000.0} as serde_json does.
 *
 * <p>Strict where leniency would hide damage: no trailing garbage, no comments, no trailing commas, no raw
 * control characters in strings, no lone surrogates, no duplicate keys (a file with two {@code "job_id"} fields
 * would mean different things to different readers). Nesting is bounded so hostile input cannot exhaust the stack.
 */
public final class JsonParser {
    private static final int MAX_DEPTH = 64;

    private final JsonScanner in;

    private JsonParser(String text) {
        this.in = new JsonScanner(text);
    }

    /** Parses one JSON value surrounded by optional white space. */
    public static Object parse(String text) {
        JsonParser p = new JsonParser(text);
        p.in.skipWhitespace();
        Object v = p.value(0);
        p.in.skipWhitespace();
        if (p.in.pos < p.in.s.length()) {
            throw p.in.error(
                    "unexpected '" + JsonScanner.printable(p.in.s.charAt(p.in.pos)) + "' after the end of the value");
        }
        return v;
    }

    private Object value(int depth) {
        if (in.pos >= in.s.length()) {
            throw in.endOfInput("a value");
        }
        char c = in.s.charAt(in.pos);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return in.string();
            case 't':
                in.literal("true");
                return Boolean.TRUE;
            case 'f':
                in.literal("false");
                return Boolean.FALSE;
            case 'n':
                in.literal("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return in.number();
                }
                throw in.error("unexpected '" + JsonScanner.printable(c) + "' where a value should start");
        }
    }

    private Map<String, Object> object(int depth) {
        checkDepth(depth);
        in.pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        in.skipWhitespace();
        if (in.peek() == '}') {
            in.pos++;
            return Collections.unmodifiableMap(map);
        }
        while (true) {
            in.skipWhitespace();
            if (in.pos >= in.s.length()) {
                throw in.endOfInput("a key");
            }
            if (in.s.charAt(in.pos) != '"') {
                throw in.error("expected a key in double quotes");
            }
            int keyAt = in.pos;
            String key = in.string();
            in.skipWhitespace();
            in.expect(':');
            in.skipWhitespace();
            Object v = value(depth + 1);
            if (map.containsKey(key)) {
                in.pos = keyAt;
                // quoted and cut: the key comes from the file (the message reaches stderr through Log, which
                // escapes what Json.quote leaves)
                throw in.error("duplicate key " + Json.quote(key.length() > 200 ? key.substring(0, 200) + "..." : key));
            }
            map.put(key, v);
            in.skipWhitespace();
            if (in.pos >= in.s.length()) {
                throw in.endOfInput("',' or '}'");
            }
            char c = in.s.charAt(in.pos++);
            if (c == '}') {
                return Collections.unmodifiableMap(map);
            }
            if (c != ',') {
                in.pos--;
                throw in.error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) {
        checkDepth(depth);
        in.pos++; // '['
        List<Object> list = new ArrayList<>();
        in.skipWhitespace();
        if (in.peek() == ']') {
            in.pos++;
            return Collections.unmodifiableList(list);
        }
        while (true) {
            in.skipWhitespace();
            list.add(value(depth + 1));
            in.skipWhitespace();
            if (in.pos >= in.s.length()) {
                throw in.endOfInput("',' or ']'");
            }
            char c = in.s.charAt(in.pos++);
            if (c == ']') {
                return Collections.unmodifiableList(list);
            }
            if (c != ',') {
                in.pos--;
                throw in.error("expected ',' or ']'");
            }
        }
    }

    /** A container at {@code depth} (0 at the top) is level {@code depth + 1}: at most {@link #MAX_DEPTH}. */
    private void checkDepth(int depth) {
        if (depth >= MAX_DEPTH) {
            throw in.error("nesting deeper than " + MAX_DEPTH + " levels");
        }
    }
}
