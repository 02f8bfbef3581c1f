package dev.muster.core;

import java.io.PrintStream;

/**
 * Status and error lines on stderr, each starting with {@code muster[<rank>]} so that the interleaved output of
 * many tasks in one srun stream stays readable. Data never goes through here: it goes to stdout unprefixed.
 */
public final class Log {
    public enum Level {
        QUIET,
        NORMAL,
        VERBOSE
    }

    private static volatile String rank = "-";
    private static volatile Level level = Level.NORMAL;
    private static volatile PrintStream err = System.err;

    private Log() {}

    public static void rank(int r) {
        rank = Integer.toString(r);
    }

    public static void level(Level l) {
        level = l;
    }

    public static Level level() {
        return level;
    }

    public static boolean verbose() {
        return level == Level.VERBOSE;
    }

    /** Redirects output, for in-process tests. */
    public static void to(PrintStream stream) {
        err = stream;
    }

    public static String prefix() {
        return "muster[" + rank + "] ";
    }

    public static void info(String message) {
        if (level != Level.QUIET) {
            line(message);
        }
    }

    public static void warn(String message) {
        if (level != Level.QUIET) {
            line("warning: " + message);
        }
    }

    public static void error(String message) {
        line("error: " + message);
    }

    public static void debug(String message) {
        if (level == Level.VERBOSE) {
            line(message);
        }
    }

    private static void line(String message) {
        // one print call per line, so lines of concurrent threads never interleave inside a line; and one line
        // it stays whatever a message quotes from a file or a peer (SafeText)
        err.print(prefix() + SafeText.line(message) + "\n");
        err.flush();
    }
}
