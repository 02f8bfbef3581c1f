package dev.muster.cli;

/** POSIX shell quoting for {@code export} lines that a script may {@code eval}. */
final class Shell {
    private Shell() {
    }

    static String quote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_@%+=:,./-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
