package dev.muster.core;

import java.time.Duration;

/**
 * The one parser of durations that users write ({@code 30}, {@code 30s}, {@code 500ms}, {@code 2m}), shared by
 * the command line, the environment and the agent's settings; each caller names the input in its own error line.
 */
public final class Durations {
    private static final double WEEK_MILLIS = 7.0 * 24 * 3600 * 1000;

    private Durations() {}

    /** A duration that is not positive or is longer than a week; the message says which, without the input. */
    public static final class Invalid extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final boolean tooLong;

        Invalid(boolean tooLong) {
            super(
                    tooLong
                            ? "is longer than a week; use a shorter duration"
                            : "is not a positive duration; write e.g. 30s, 500ms or 2m");
            this.tooLong = tooLong;
        }

        public boolean tooLong() {
            return tooLong;
        }
    }

    /**
     * A positive duration of at most a week: a number with unit ms, s or m; a bare number is in {@code bareUnit}.
     *
     * @throws Invalid when {@code v} is not one
     */
    public static Duration parse(String v, String bareUnit) {
        String s = v.trim();
        String unit = bareUnit;
        for (String u : new String[] {"ms", "s", "m"}) {
            if (s.endsWith(u) && s.length() > u.length() && Character.isDigit(s.charAt(s.length() - u.length() - 1))) {
                unit = u;
                s = s.substring(0, s.length() - u.length());
                break;
            }
        }
        double n;
        try {
            n = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            n = Double.NaN;
        }
        if (Double.isNaN(n) || Double.isInfinite(n) || n <= 0) {
            throw new Invalid(false);
        }
        double millis = switch (unit) {
            case "ms" -> n;
            case "m" -> n * 60_000;
            default -> n * 1000;
        };
        if (millis > WEEK_MILLIS) {
            throw new Invalid(true);
        }
        return Duration.ofNanos(Math.max(1, Math.round(millis * 1_000_000)));
    }
}
