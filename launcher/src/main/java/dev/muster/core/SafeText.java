package dev.muster.core;

/**
 * Strings from files and peers made safe to print as text: whoever can write a record or a step file chooses its
 * bytes, and printed raw they could forge a second output line ({@code \n}), move the cursor or retitle the
 * terminal (ESC sequences), hide text (a carriage return, bidi overrides) or flood a log (a megabyte in one field).
 *
 * <p>Escaped: C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, bidi embedding, override
 * and isolate controls, and lone surrogates, each as {@code \n}, {@code \t}, {@code \r} or {@code \}{@code uXXXX}
 * (and a backslash as {@code \\}), so that an escaped string says unambiguously what the file held. Bounded:
 * longer strings are cut, and the cut is said with the number of characters left out. JSON output and
 * {@code export} lines do not go through here: they have exact encodings of their own.
 */
public final class SafeText {
    /** Enough for any host, URL or name that a human reads in a message; longer is not a real value. */
    public static final int VALUE_CHARS = 200;
    /** The longest value in hpc-compose-compatible text output: far beyond any real host, URL or path. */
    public static final int FIELD_CHARS = 4096;
    /** The longest line muster writes to stderr. */
    public static final int LINE_CHARS = 2000;

    private SafeText() {}

    /** {@code s} in double quotes, escaped and cut at {@link #VALUE_CHARS}: for a value quoted in a message. */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), VALUE_CHARS) + 2).append('"');
        int cut = escape(b, s, VALUE_CHARS);
        b.append('"');
        if (cut > 0) {
            b.append(" (").append(cut).append(" more characters)");
        }
        return b.toString();
    }

    /**
     * {@code s} as a field of text data output: unchanged when it holds nothing unsafe and is at most
     * {@link #FIELD_CHARS} long (every real record), else escaped and cut, so one record stays one line.
     */
    public static String field(String s) {
        return field(s, FIELD_CHARS);
    }

    /** {@code s} escaped and cut at {@code max} characters of input, unquoted: for a text field of data output. */
    public static String field(String s, int max) {
        if (s == null) {
            return "";
        }
        boolean clean = s.length() <= max;
        for (int i = 0; clean && i < s.length(); i++) {
            clean = !unsafe(s, i);
        }
        if (clean) {
            return s;
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), max));
        int cut = escape(b, s, max);
        if (cut > 0) {
            b.append("...(").append(cut).append(" more characters)");
        }
        return b.toString();
    }

    /**
     * A whole message made one safe line: controls escaped (a backslash stays as it is, since messages quote
     * values through {@link #quote} already), cut at {@link #LINE_CHARS}.
     */
    public static String line(String s) {
        boolean clean = s.length() <= LINE_CHARS;
        for (int i = 0; clean && i < s.length(); i++) {
            clean = !unsafe(s, i);
        }
        if (clean) {
            return s;
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), LINE_CHARS) + 40);
        int n = Math.min(s.length(), LINE_CHARS);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (unsafe(s, i)) {
                escapeChar(b, c);
            } else {
                b.append(c);
            }
        }
        if (s.length() > LINE_CHARS) {
            b.append("...(").append(s.length() - LINE_CHARS).append(" more characters)");
        }
        return b.toString();
    }

    /** Appends up to {@code max} characters of {@code s} escaped; returns how many were left out. */
    private static int escape(StringBuilder b, String s, int max) {
        int n = Math.min(s.length(), max);
        if (n < s.length() && n > 0 && Character.isHighSurrogate(s.charAt(n - 1))) {
            n--; // never cut a pair in two
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\\' || c == '"') {
                b.append('\\').append(c);
            } else if (unsafe(s, i)) {
                escapeChar(b, c);
            } else {
                b.append(c);
            }
        }
        return s.length() - n;
    }

    private static void escapeChar(StringBuilder b, char c) {
        switch (c) {
            case '\n' -> b.append("\\n");
            case '\r' -> b.append("\\r");
            case '\t' -> b.append("\\t");
            default -> b.append(String.format("\\u%04x", (int) c));
        }
    }

    /** Whether the character at {@code i} must not reach a terminal or a line-oriented reader as it is. */
    public static boolean unsafe(String s, int i) {
        char c = s.charAt(i);
        if (c < 0x20 || c >= 0x7f && c <= 0x9f) {
            return true;
        }
        if (c == '\u2028'
                || c == '\u2029'
                || c >= '\u202a' && c <= '\u202e'
                || c >= '\u2066' && c <= '\u2069'
                || c == '\u200e'
                || c == '\u200f'
                || c == '\u061c') {
            return true; // line separators and the controls that reorder what a terminal shows
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        }
        return false;
    }
}
