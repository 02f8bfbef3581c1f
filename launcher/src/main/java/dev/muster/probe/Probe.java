package dev.muster.probe;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A readiness check: is the provider's endpoint (or file, or command) ready yet? One {@link #attempt} is cheap
 * and bounded; {@link #await} retries until a deadline.
 */
public interface Probe {
    String FORMS = "tcp:[HOST:]PORT, http[s]://HOST[:PORT][/PATH][=STATUS], file:PATH or cmd:'COMMAND'";

    /** Backoff between attempts: start fast, since a server is often up within a few hundred milliseconds. */
    long FIRST_INTERVAL_NANOS = 50_000_000L;

    long MAX_INTERVAL_NANOS = 500_000_000L;

    /**
     * One check, giving up after {@code timeout}.
     *
     * @return null when ready, else a short reason (for the final message)
     */
    String attempt(Duration timeout);

    /** The probe as the user wrote it. */
    String spec();

    /** The outcome of {@link #await}: ready or not, the last reason it was not, and how many attempts. */
    record Result(boolean ready, String lastFailure, int attempts) {}

    /** Retries {@link #attempt} with a growing interval (50 ms to 500 ms) until it passes or {@code timeout} ends. */
    default Result await(Duration timeout, Clock clock) {
        return await(timeout, clock, FIRST_INTERVAL_NANOS, MAX_INTERVAL_NANOS);
    }

    /** {@link #await(Duration, Clock)} with another backoff: from {@code firstNanos}, growing by half to {@code maxNanos}. */
    default Result await(Duration timeout, Clock clock, long firstNanos, long maxNanos) {
        long deadline = clock.nanoTime() + timeout.toNanos();
        long interval = firstNanos;
        String last = "not tried";
        int attempts = 0;
        while (true) {
            long left = deadline - clock.nanoTime();
            attempts++;
            last = attempt(Duration.ofNanos(Math.max(1_000_000L, Math.min(left, 5_000_000_000L))));
            if (last == null) {
                return new Result(true, null, attempts);
            }
            left = deadline - clock.nanoTime();
            if (left <= 0) {
                return new Result(false, last, attempts);
            }
            try {
                clock.sleep(Math.min(interval, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result(false, "interrupted", attempts);
            }
            interval = Math.min(maxNanos, interval * 3 / 2);
        }
    }

    /**
     * Parses a probe: {@code tcp:[HOST:]PORT}, {@code http[s]://...[=STATUS]}, {@code file:PATH},
     * {@code cmd:'...'}.
     *
     * @param flag names the option in messages, e.g. {@code --ready}
     * @throws MusterException (usage) with one line naming the probe and the accepted forms
     */
    static Probe parse(String flag, String spec) {
        if (spec == null) {
            throw bad(flag, "", "it is empty");
        }
        if (spec.startsWith("tcp:")) {
            return TcpProbe.parse(flag, spec);
        }
        if (spec.startsWith("http://") || spec.startsWith("https://")) {
            return HttpProbe.parse(flag, spec);
        }
        if (spec.startsWith("file:")) {
            String p = spec.substring(5);
            if (p.isEmpty() || p.indexOf('\0') >= 0) {
                throw bad(flag, spec, "it names no file");
            }
            return new FileProbe(spec, Path.of(p));
        }
        if (spec.startsWith("cmd:")) {
            String c = unquote(spec.substring(4).trim());
            if (c.isBlank()) {
                throw bad(flag, spec, "it names no command");
            }
            return new CommandProbe(spec, c);
        }
        throw bad(flag, spec, "its kind is unknown");
    }

    /** {@code 'a b'} or {@code "a b"} as {@code a b}: the quotes of the documented form are not the command's. */
    private static String unquote(String s) {
        if (s.length() >= 2 && (s.charAt(0) == '\'' || s.charAt(0) == '"') && s.charAt(s.length() - 1) == s.charAt(0)) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    static MusterException bad(String flag, String spec, String why) {
        return MusterException.usage(flag + " '" + spec + "' is not a readiness probe (" + why + "); use " + FORMS);
    }
}
