package dev.muster.json;

import java.math.BigInteger;
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

    private final String s;
    private int pos;

    private JsonParser(String text) {
        this.s = text;
    }

    /** Parses one JSON value surrounded by optional white space. */
    public static Object parse(String text) {
        JsonParser p = new JsonParser(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos < p.s.length()) {
            throw p.error("unexpected '" + printable(p.s.charAt(p.pos)) + "' after the end of the value");
        }
        return v;
    }

    private Object value(int depth) {
        if (pos >= s.length()) {
            throw endOfInput("a value");
        }
        char c = s.charAt(pos);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("unexpected '" + printable(c) + "' where a value should start");
        }
    }

    private Map<String, Object> object(int depth) {
        checkDepth(depth);
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return Collections.unmodifiableMap(map);
        }
        while (true) {
            skipWhitespace();
            if (pos >= s.length()) {
                throw endOfInput("a key");
            }
            if (s.charAt(pos) != '"') {
                throw error("expected a key in double quotes");
            }
            int keyAt = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth + 1);
            if (map.containsKey(key)) {
                pos = keyAt;
                // quoted and cut: the key comes from the file (the message reaches stderr through Log, which
                // escapes what Json.quote leaves)
                throw error("duplicate key " + Json.quote(key.length() > 200 ? key.substring(0, 200) + "..." : key));
            }
            map.put(key, v);
            skipWhitespace();
            if (pos >= s.length()) {
                throw endOfInput("',' or '}'");
            }
            char c = s.charAt(pos++);
            if (c == '}') {
                return Collections.unmodifiableMap(map);
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) {
        checkDepth(depth);
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return Collections.unmodifiableList(list);
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth + 1));
            skipWhitespace();
            if (pos >= s.length()) {
                throw endOfInput("',' or ']'");
            }
            char c = s.charAt(pos++);
            if (c == ']') {
                return Collections.unmodifiableList(list);
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']'");
            }
        }
    }

    /** A container at {@code depth} (0 at the top) is level {@code depth + 1}: at most {@link #MAX_DEPTH}. */
    private void checkDepth(int depth) {
        if (depth >= MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw endOfInput("the end of a string");
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                pos--;
                throw error("raw control character in a string; write it as an escape");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (pos >= s.length()) {
                throw endOfInput("an escape");
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"' -> b.append('"');
                case '\\' -> b.append('\\');
                case '/' -> b.append('/');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    char u = hex4();
                    if (Character.isHighSurrogate(u)) {
                        if (pos + 1 < s.length() && s.charAt(pos) == '\\' && s.charAt(pos + 1) == 'u') {
                            pos += 2;
                            char low = hex4();
                            if (!Character.isLowSurrogate(low)) {
                                throw error("lone leading surrogate in a \\u escape");
                            }
                            b.append(u).append(low);
                        } else if (pos == s.length() || (pos + 1 == s.length() && s.charAt(pos) == '\\')) {
                            // the text stops where the low half would be: cut short. Anything else after a
                            // high surrogate (a closing quote, another character) is damage, not a short read.
                            throw endOfInput("the rest of a surrogate pair");
                        } else {
                            throw error("lone leading surrogate in a \\u escape");
                        }
                    } else if (Character.isLowSurrogate(u)) {
                        throw error("lone trailing surrogate in a \\u escape");
                    } else {
                        b.append(u);
                    }
                }
                default -> {
                    pos--;
                    throw error("invalid escape '\\" + printable(e) + "'");
                }
            }
        }
    }

    private char hex4() {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            if (pos + i >= s.length()) {
                // only digits so far: more text could complete the escape
                throw endOfInput("four hex digits");
            }
            int d = hexDigit(s.charAt(pos + i));
            if (d < 0) {
                // invalid whatever follows: damage, not a short read
                pos += i;
                throw error("invalid hex digit in a \\u escape");
            }
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    /** ASCII hex only: {@link Character#digit} would also take full-width and other Unicode digits. */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (pos >= s.length()) {
            throw endOfInput("a digit");
        }
        char first = s.charAt(pos);
        if (first == '0') {
            pos++;
            if (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                throw error("leading zero in a number");
            }
        } else if (first >= '1' && first <= '9') {
            digits();
        } else {
            throw error("expected a digit");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            requireDigit();
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            requireDigit();
            digits();
        }
        String text = s.substring(start, pos);
        if (integral) {
            BigInteger big = new BigInteger(text);
            return big.bitLength() < 64 ? (Object) big.longValue() : big;
        }
        double d = Double.parseDouble(text);
        if (Double.isInfinite(d)) {
            pos = start;
            throw error("number out of range");
        }
        return d;
    }

    private void requireDigit() {
        if (pos >= s.length()) {
            throw endOfInput("a digit");
        }
        if (s.charAt(pos) < '0' || s.charAt(pos) > '9') {
            throw error("expected a digit");
        }
    }

    private void digits() {
        while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
            pos++;
        }
    }

    private void literal(String word) {
        for (int i = 0; i < word.length(); i++) {
            if (pos + i >= s.length()) {
                throw endOfInput("'" + word + "'");
            }
            if (s.charAt(pos + i) != word.charAt(i)) {
                pos += i;
                throw error("expected '" + word + "'");
            }
        }
        pos += word.length();
    }

    private void expect(char c) {
        if (pos >= s.length()) {
            throw endOfInput("'" + c + "'");
        }
        if (s.charAt(pos) != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private char peek() {
        return pos < s.length() ? s.charAt(pos) : '\0';
    }

    private void skipWhitespace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private JsonException endOfInput(String expected) {
        return new JsonException("unexpected end of input at " + where() + ", expected " + expected, true);
    }

    private JsonException error(String what) {
        return new JsonException(what + " at " + where(), false);
    }

    private String where() {
        int line = 1;
        int col = 1;
        for (int i = 0; i < pos && i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return "line " + line + " column " + col;
    }

    private static String printable(char c) {
        return c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }
}
