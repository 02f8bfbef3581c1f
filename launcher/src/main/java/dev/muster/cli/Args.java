package dev.muster.cli;

import dev.muster.core.Durations;
import dev.muster.core.MusterException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A small command-line reader: {@code --flag value}, {@code --flag=value}, boolean flags, and everything after
 * {@code --} as the command. Every error names the flag and the value and says what would be accepted.
 */
final class Args {
    private final String command;
    private final List<String> tokens;
    private int pos;
    private String pendingValue;
    private boolean sawDoubleDash;

    Args(String command, List<String> tokens) {
        this.command = command;
        this.tokens = new ArrayList<>(tokens);
    }

    /** True while there is another option to read; false at {@code --}, at the first non-option, or at the end. */
    boolean moreOptions() {
        if (pos >= tokens.size()) {
            return false;
        }
        String t = tokens.get(pos);
        if (t.equals("--")) {
            pos++;
            sawDoubleDash = true;
            return false;
        }
        return t.startsWith("-") && t.length() > 1;
    }

    /** The next option's name; a value given as {@code --flag=value} is kept for {@link #value}. */
    String option() {
        String t = tokens.get(pos++);
        pendingValue = null;
        int eq = t.indexOf('=');
        if (t.startsWith("--") && eq > 0) {
            pendingValue = t.substring(eq + 1);
            return t.substring(0, eq);
        }
        return t;
    }

    /** The value {@link #value} would return next, without taking it; null when there is none. */
    String peekValue() {
        if (pendingValue != null) {
            return pendingValue;
        }
        return pos < tokens.size() && !tokens.get(pos).equals("--") ? tokens.get(pos) : null;
    }

    String value(String flag) {
        if (pendingValue != null) {
            String v = pendingValue;
            pendingValue = null;
            return v;
        }
        if (pos >= tokens.size() || tokens.get(pos).equals("--")) {
            throw MusterException.usage(command + ": " + flag + " needs a value");
        }
        return tokens.get(pos++);
    }

    /** A flag that takes no value: refuses {@code --flag=x}. */
    void noValue(String flag) {
        if (pendingValue != null) {
            throw MusterException.usage(command + ": " + flag + " takes no value (got '" + pendingValue + "')");
        }
    }

    int integer(String flag, int min, int max) {
        String v = value(flag);
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) {
                throw MusterException.usage(
                        command + ": " + flag + " " + v + " is out of range; use " + min + ".." + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw MusterException.usage(command + ": " + flag + " '" + v + "' is not a whole number");
        }
    }

    /** A positive duration: a number with unit ms, s or m; a bare number is in {@code bareUnit}. */
    Duration duration(String flag, String bareUnit) {
        return parseDuration(command + ": " + flag, value(flag), bareUnit);
    }

    static Duration parseDuration(String what, String v, String bareUnit) {
        try {
            return Durations.parse(v, bareUnit);
        } catch (IllegalArgumentException e) {
            // Durations.Invalid; caught by its JDK superclass so that verifying this class loads nothing more
            throw MusterException.usage(what + " '" + v + "' " + e.getMessage());
        }
    }

    MusterException unknown(String flag) {
        return MusterException.usage(command + ": unknown option " + flag + "; see muster " + command + " --help");
    }

    /** Everything left: after {@code --}, or from the first non-option on. */
    List<String> rest() {
        return new ArrayList<>(tokens.subList(pos, tokens.size()));
    }

    /** Position of the next token, for {@link #tokens}. */
    int mark() {
        return pos;
    }

    /** The raw tokens between two marks. */
    List<String> tokens(int from, int to) {
        return new ArrayList<>(tokens.subList(from, to));
    }

    boolean sawDoubleDash() {
        return sawDoubleDash;
    }

    /** Fails unless every token was consumed. */
    void end() {
        if (pos < tokens.size()) {
            throw MusterException.usage(
                    command + ": unexpected argument '" + tokens.get(pos) + "'; see muster " + command + " --help");
        }
    }
}
