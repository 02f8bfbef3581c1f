package dev.muster.service;

import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.exec.Signals;
import dev.muster.probe.Probe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code run --start CMD ... --arrive-when PROBE ...}: the task's services are started before it arrives at the
 * barrier, and it arrives only once every probe passes, so that no peer connects to a service that is not up
 * yet (the Sarus ssh case). The services live exactly as long as the task; see {@link Service}.
 */
public final class StartUp {
    /** Between two rounds of probes: start fast (a service is often up in tens of milliseconds), then back off. */
    static final long FIRST_INTERVAL_NANOS = 10_000_000L;

    static final long MAX_INTERVAL_NANOS = 250_000_000L;

    private final List<String> commands;
    private final List<Probe> probes;
    private final Duration timeout;
    private final Clock clock;
    private final List<Service> started = new ArrayList<>();

    public StartUp(List<String> commands, List<Probe> probes, Duration timeout, Clock clock) {
        this.commands = List.copyOf(commands);
        this.probes = List.copyOf(probes);
        this.timeout = timeout;
        this.clock = clock;
    }

    public List<String> commands() {
        return commands;
    }

    /** Starts every command in the background, supervised for the life of process {@code taskPid}. */
    public void start(Map<String, String> env, long taskPid) {
        for (String c : commands) {
            Service s = Service.start(c, env, taskPid, Service.GRACE, Log.prefix(), clock);
            started.add(s);
            Log.debug("started --start '" + c + "' (pid " + s.pid() + ")");
        }
    }

    /**
     * Returns once every probe has passed.
     *
     * @param stopped true once muster has been told to stop (a signal): the wait ends at once
     * @throws MusterException the service's own exit code when it exited with one before its probes passed, or
     *     69 when a probe did not pass within the timeout; the message names the command and the probe
     */
    public void awaitReady(BooleanSupplier stopped) {
        long start = clock.nanoTime();
        long deadline = start + timeout.toNanos();
        Map<Probe, String> pending = new LinkedHashMap<>();
        probes.forEach(p -> pending.put(p, "not tried"));
        boolean[] exitedZero = new boolean[started.size()];
        long interval = FIRST_INTERVAL_NANOS;
        while (true) {
            checkServices(pending, exitedZero);
            for (Map.Entry<Probe, String> e : new ArrayList<>(pending.entrySet())) {
                long left = Math.max(1_000_000L, Math.min(deadline - clock.nanoTime(), 2_000_000_000L));
                String why = e.getKey().attempt(Duration.ofNanos(left));
                if (why == null) {
                    pending.remove(e.getKey());
                    Log.debug("--arrive-when " + e.getKey().spec() + " passed after "
                            + (clock.nanoTime() - start) / 1_000_000 + " ms");
                } else {
                    e.setValue(why);
                }
            }
            if (pending.isEmpty()) {
                // the port may answer because something else holds it, while our service failed to bind
                checkServices(pending, exitedZero);
                return;
            }
            if (stopped.getAsBoolean()) {
                throw new MusterException(ExitCodes.INTERNAL, "stopped while waiting for --arrive-when");
            }
            long left = deadline - clock.nanoTime();
            if (left <= 0) {
                throw notReady(pending, exitedZero);
            }
            // sleep in short slices, so that a service that dies is reported at once
            long until = clock.nanoTime() + Math.min(interval, left);
            while (clock.nanoTime() < until && !stopped.getAsBoolean()) {
                checkServices(pending, exitedZero);
                try {
                    clock.sleep(Math.min(20_000_000L, until - clock.nanoTime()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    if (!stopped.getAsBoolean()) {
                        throw new MusterException(ExitCodes.INTERNAL, "interrupted while waiting for --arrive-when");
                    }
                }
            }
            interval = Math.min(MAX_INTERVAL_NANOS, interval * 3 / 2);
        }
    }

    /** A service whose first process exited non-zero before the probes passed aborts the task with that code. */
    private void checkServices(Map<Probe, String> pending, boolean[] exitedZero) {
        for (int i = 0; i < started.size(); i++) {
            Service s = started.get(i);
            int code = s.exitCode();
            if (code > 0) {
                String when = pending.isEmpty()
                        ? probes.isEmpty() ? "right after it started" : "although " + specs(probes) + " answered"
                        : "before " + specs(pending.keySet()) + " passed";
                throw new MusterException(
                        code,
                        "--start '" + s.command() + "' exited with " + code + meaning(code) + " " + when
                                + "; see its output above and fix the command");
            }
            if (code == 0 && !exitedZero[i]) {
                exitedZero[i] = true;
                Log.debug("--start '" + s.command() + "': its first process exited 0 (a daemon that forked?); "
                        + "still watching its processes");
            }
        }
    }

    private MusterException notReady(Map<Probe, String> pending, boolean[] exitedZero) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<Probe, String> e : pending.entrySet()) {
            b.append(b.length() == 0 ? "" : ", ")
                    .append("--arrive-when ")
                    .append(e.getKey().spec())
                    .append(" (")
                    .append(e.getValue())
                    .append(')');
        }
        b.append(" did not pass within ").append(seconds(timeout));
        for (int i = 0; i < started.size(); i++) {
            b.append("; --start '")
                    .append(started.get(i).command())
                    .append(exitedZero[i] ? "' exited 0 (daemonized?)" : "' is still running");
        }
        b.append(": check where it listens, or raise --arrive-timeout");
        return new MusterException(ExitCodes.NOT_RESOLVED, b.toString());
    }

    /** Stops every service now and waits (bounded) until it is gone: a failed start-up, or the Java 17 fallback. */
    public void stop() {
        started.forEach(Service::requestStop);
        for (Service s : started) {
            if (!s.awaitStopped(Service.GRACE.plusSeconds(3))) {
                Log.warn("--start '" + s.command() + "' not yet stopped " + (Service.GRACE.toSeconds() + 3)
                        + " s after muster asked; its supervisor keeps trying");
            }
        }
        started.clear();
    }

    private static String meaning(int code) {
        if (code == ExitCodes.NOT_FOUND) {
            return " (command not found)";
        }
        if (code == ExitCodes.NOT_EXECUTABLE) {
            return " (not executable)";
        }
        if (code > 128 && code < 128 + 32 && Signals.name(code - 128) != null) {
            return " (killed by SIG" + Signals.name(code - 128) + ")";
        }
        return "";
    }

    private static String specs(Iterable<Probe> ps) {
        StringBuilder b = new StringBuilder();
        for (Probe p : ps) {
            b.append(b.length() == 0 ? "--arrive-when " : ", ").append(p.spec());
        }
        return b.toString();
    }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
