package dev.muster.json;

import java.math.BigInteger;

/**
 * The lexical half of {@link JsonParser}: a position in the text, the tokens (strings with their escapes,
 * numbers, literals), white space, and the errors that name the line and column. Strict as the parser is: raw
 * control characters, lone surrogates, leading zeros, and non-ASCII hex digits are refused.
 */
final class JsonScanner {
    final String s;
    int pos;

    JsonScanner(String text) {
        this.s = text;
    }

    String string() {
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
                case 'u' -> unicodeEscape(b);
                default -> {
                    pos--;
                    throw error("invalid escape '\\" + printable(e) + "'");
                }
            }
        }
    }

    /** After {@code \\u}: one character, or a surrogate pair written as two escapes. */
    private void unicodeEscape(StringBuilder b) {
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

    char hex4() {
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

    Object number() {
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

    void requireDigit() {
        if (pos >= s.length()) {
            throw endOfInput("a digit");
        }
        if (s.charAt(pos) < '0' || s.charAt(pos) > '9') {
            throw error("expected a digit");
        }
    }

    void digits() {
        while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
            pos++;
        }
    }

    void literal(String word) {
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

    void expect(char c) {
        if (pos >= s.length()) {
            throw endOfInput("'" + c + "'");
        }
        if (s.charAt(pos) != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    char peek() {
        return pos < s.length() ? s.charAt(pos) : '\0';
    }

    void skipWhitespace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    JsonException endOfInput(String expected) {
        return new JsonException("unexpected end of input at " + where() + ", expected " + expected, true);
    }

    JsonException error(String what) {
        return new JsonException(what + " at " + where(), false);
    }

    String where() {
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

    static String printable(char c) {
        return c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }
}
