package dev.muster.rendezvous;

import dev.muster.core.Clock;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.probe.Probe;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * What a provider leaves behind when it execs (DESIGN §5): waits until the endpoint is ready, registers, renews
 * the lease every third of the TTL while {@code latest.json} is still its own, and deregisters (owner-guarded) when
 * the task's process is gone or {@link #stop} is called (a TERM). Another provider's newer registration wins: this
 * one then stops renewing, says so once, and leaves.
 */
public final class Registrar {
    /** How often the task's process is looked at: its end should reach the record (and srun) quickly. */
    static final long WATCH_NANOS = 50_000_000L;

    static final long READY_FIRST_NANOS = 20_000_000L;
    static final long READY_MAX_NANOS = 50_000_000L;
    private static final long READY_PROGRESS_NANOS = 60_000_000_000L;

    /** What to register and how. {@code readyTimeout} null: wait for readiness as long as the task lives. */
    public record Spec(
            String name,
            String jobId,
            String service,
            String host,
            int port,
            String protocol,
            String path,
            long ttlSeconds,
            Map<String, String> metadata,
            Probe ready,
            Duration readyTimeout) {}

    /** How the registrar ended. */
    public enum End {
        /** the task ended (or TERM) before the endpoint was ready: nothing was registered. */
        NEVER_READY,
        /** readiness did not pass within --ready-timeout: nothing was registered. */
        READY_TIMEOUT,
        /** registered, then deregistered (or found the record already gone or another job's) at the end. */
        DEREGISTERED,
        /** another provider's registration took the name: renewals stopped. */
        LOST
    }

    private final Store store;
    private final Clock clock;
    private final Spec spec;
    private final BooleanSupplier taskAlive;
    private volatile boolean stopRequested;
    private volatile Thread runner;
    private Record current;

    public Registrar(Store store, Clock clock, Spec spec, BooleanSupplier taskAlive) {
        this.store = store;
        this.clock = clock;
        this.spec = spec;
        this.taskAlive = taskAlive;
    }

    /** Asks {@link #run} to deregister and return (from a signal handler). */
    public void stop() {
        stopRequested = true;
        Thread t = runner;
        if (t != null) {
            t.interrupt();
        }
    }

    private boolean ending() {
        return stopRequested || !taskAlive.getAsBoolean();
    }

    public End run() {
        runner = Thread.currentThread();
        if (!awaitReady()) {
            return stopRequested || !taskAlive.getAsBoolean() ? End.NEVER_READY : End.READY_TIMEOUT;
        }
        if (ending()) {
            return End.NEVER_READY;
        }
        Thread.interrupted();
        current = register();
        long renewEvery = Math.max(1, spec.ttlSeconds() * 1000 / 3) * 1_000_000L;
        Log.info("registered rendezvous " + spec.name() + " at " + current.url() + " (job " + spec.jobId() + ", ttl "
                + spec.ttlSeconds() + "s, renewed every " + seconds(renewEvery) + ")");
        long nextRenewal = clock.nanoTime() + renewEvery;
        boolean warned = false;
        while (!ending()) {
            pause(Math.min(WATCH_NANOS, Math.max(0, nextRenewal - clock.nanoTime())));
            if (ending()) {
                break;
            }
            if (clock.nanoTime() < nextRenewal) {
                continue;
            }
            try {
                Optional<Record> latest = store.latest(spec.name());
                if (latest.isPresent() && !same(latest.get(), current)) {
                    Record other = latest.get();
                    Log.warn("rendezvous " + spec.name() + " now belongs to job " + other.jobId() + " (" + other.url()
                            + "), registered after this one; this provider stops renewing its lease");
                    return End.LOST;
                }
                if (latest.isEmpty()) {
                    Log.debug("rendezvous " + spec.name() + ": latest.json was gone; registering again");
                }
                current = register();
                warned = false;
                nextRenewal = clock.nanoTime() + renewEvery;
            } catch (MusterException e) {
                // a hiccup of the shared file system: try again soon, say so once per streak
                if (!warned) {
                    Log.warn("cannot renew rendezvous " + spec.name() + ": " + e.getMessage() + "; retrying");
                    warned = true;
                }
                nextRenewal = clock.nanoTime() + Math.min(renewEvery, 1_000_000_000L);
            }
        }
        // a stop interrupts this thread; an interrupted thread's file channels close at once, so clear it first
        Thread.interrupted();
        deregister();
        return End.DEREGISTERED;
    }

    private Record register() {
        return store.register(
                        spec.name(),
                        spec.jobId(),
                        spec.service(),
                        spec.host(),
                        spec.port(),
                        spec.protocol(),
                        spec.path(),
                        spec.ttlSeconds(),
                        spec.metadata())
                .record();
    }

    /** The record this registrar wrote last, unchanged: a renewal by someone else changes registered_at at least. */
    static boolean same(Record a, Record b) {
        return a.jobId().equals(b.jobId())
                && a.host().equals(b.host())
                && a.port() == b.port()
                && a.registeredAt() == b.registeredAt()
                && java.util.Objects.equals(a.service(), b.service());
    }

    private void deregister() {
        try {
            Store.Deregistration d = store.deregister(spec.name(), spec.jobId());
            switch (d) {
                case REMOVED -> Log.info("deregistered rendezvous " + spec.name());
                case NOT_OURS -> Log.info("rendezvous " + spec.name() + " belongs to another job now; left in place");
                default -> Log.debug("rendezvous " + spec.name() + " was already gone");
            }
        } catch (MusterException e) {
            Log.warn("cannot deregister rendezvous " + spec.name() + ": " + e.getMessage()
                    + "; the record lapses by its TTL");
        }
    }

    /** Probes with a fast backoff until ready, the deadline, the task's end, or a stop; true when ready. */
    private boolean awaitReady() {
        long start = clock.nanoTime();
        long deadline = spec.readyTimeout() == null
                ? Long.MAX_VALUE
                : start + spec.readyTimeout().toNanos();
        long interval = READY_FIRST_NANOS;
        long nextProgress = start + READY_PROGRESS_NANOS;
        String last = "not tried";
        while (!ending()) {
            long now = clock.nanoTime();
            long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - now;
            last = spec.ready().attempt(Duration.ofNanos(Math.max(10_000_000L, Math.min(left, 1_000_000_000L))));
            if (last == null) {
                Log.debug("ready: " + spec.ready().spec());
                return true;
            }
            now = clock.nanoTime();
            if (deadline != Long.MAX_VALUE && now >= deadline) {
                Log.error("rendezvous " + spec.name() + " not registered: readiness "
                        + spec.ready().spec()
                        + " did not pass within " + seconds(spec.readyTimeout().toNanos()) + " (" + last
                        + "); fix the probe or raise --ready-timeout");
                return false;
            }
            if (now >= nextProgress) {
                Log.info("rendezvous " + spec.name() + ": still waiting for "
                        + spec.ready().spec() + " (" + last + ")");
                nextProgress = now + READY_PROGRESS_NANOS;
            }
            pause(Math.min(interval, deadline == Long.MAX_VALUE ? interval : deadline - now));
            interval = Math.min(READY_MAX_NANOS, interval * 3 / 2);
        }
        Log.debug("the task ended before " + spec.ready().spec() + " passed (" + last + "); nothing registered");
        return false;
    }

    private void pause(long nanos) {
        try {
            clock.sleep(nanos);
        } catch (InterruptedException e) {
            // a stop: the loop looks at it
        }
    }

    private static String seconds(long nanos) {
        long ms = nanos / 1_000_000L;
        return ms % 1000 == 0 ? ms / 1000 + "s" : String.format(java.util.Locale.ROOT, "%.1fs", ms / 1000.0);
    }
}
