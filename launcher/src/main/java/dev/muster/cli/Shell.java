package dev.muster.cli;

/** POSIX shell quoting for {@code export} lines that a script may {@code eval}. */
final class Shell {
    private Shell() {}

    /** {@code s} bare when it holds only characters no shell treats specially, else single-quoted. */
    static String quote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_@%+=:,./-]+")) {
            return s;
        }
        return quoteAlways(s);
    }

    /** Single quotes keep everything literal in sh; a quote inside is closed, escaped and reopened. */
    static String quoteAlways(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
