package dev.muster.agent;

import dev.muster.barrier.BarrierSettings;
import dev.muster.barrier.Outcome;
import dev.muster.barrier.StepSync;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.exec.Signals;
import dev.muster.roster.AddressChoice;
import dev.muster.task.TaskIdentity;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * This JVM's one pass through the step barrier: in premain (gate {@code main}) or on the daemon thread
 * {@code muster-barrier} (arrive when the application binds), with {@link #awaitRelease} holding the await method.
 */
final class Gate {
    private final AgentSettings settings;
    private final TaskIdentity id;
    private final Map<String, String> env;
    private final Rendezvous rendezvous;
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicBoolean started = new AtomicBoolean();
    /** What this task advertises in its card (roster=true), chosen in premain; null without a roster. */
    private final AddressChoice address;
    /** The card's ports chosen in premain (one per cluster= library). */
    private final Map<String, Integer> ports;
    /** The port the application bound (arrive=bind), 0 before; set before {@link #passAsync}. */
    private volatile int boundPort;

    Gate(
            AgentSettings settings,
            TaskIdentity id,
            Map<String, String> env,
            Rendezvous rendezvous,
            AddressChoice address,
            Map<String, Integer> ports) {
        this.settings = settings;
        this.id = id;
        this.env = env;
        this.rendezvous = rendezvous;
        this.address = address;
        this.ports = ports;
    }

    /** The application's listening port, for the card (arrive=bind); call before {@link #passAsync}. */
    void bound(int port) {
        boundPort = port;
    }

    /** Arrives and waits in this thread. A failure ends the JVM with the barrier's code unless onfailure=continue. */
    void pass() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        try {
            StepSync sync = new StepSync(
                            id,
                            StepSync.key(id, settings.name()),
                            SyncRoot.resolve(settings.syncDir(), env).prepare(),
                            BarrierSettings.of(settings.timeout(), settings.pollMax()),
                            settings.trace() == null ? null : java.nio.file.Path.of(settings.trace()),
                            env)
                    .livesOn();
            sync.prepare();
            if (address != null) {
                Map<String, Integer> p = new java.util.TreeMap<>(ports);
                if (boundPort > 0) {
                    p.put(RosterProperties.BIND_PORT, boundPort);
                }
                sync.card(RosterProperties.card(id, address, p));
            }
            Map<String, String> data = Map.of();
            if (id.rank() == 0) {
                // rank 0 resolves before it arrives and hands the records to everyone in the release
                try {
                    data = rendezvous.resolveForRelease();
                } catch (MusterException e) {
                    sync.abort(e.status(), "rank 0: " + e.getMessage());
                    throw e;
                }
            }
            if (settings.roster() && id.rank() == 0) {
                data = new java.util.LinkedHashMap<>(data);
                data.put(dev.muster.barrier.Roster.WANTED, "1");
            }
            long t0 = System.nanoTime();
            Outcome release = sync.await(data);
            if (sync.roster() != null) {
                RosterProperties.set(sync.roster(), settings.clusters(), id.rank());
            }
            Log.debug("released after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            rendezvous.publish(release.data());
        } catch (MusterException e) {
            Agent.fail(e, settings.continueOnFailure());
        } finally {
            // StepSync turns TERM/INT/HUP into an abort marker while waiting; afterwards they are the
            // application's again, so that its shutdown hooks run on TERM
            Signals.restoreOriginal(Signals.CAUGHT);
            done.countDown();
        }
    }

    /** Arrives on the daemon thread {@code muster-barrier}; returns at once. */
    void passAsync() {
        Thread t = new Thread(this::pass, "muster-barrier");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Holds the calling application thread until the release (or the failure, which exits or, with
     * onfailure=continue, lets it go). Bounded: if this task never arrives (the application entered the await
     * method before it bound a socket), it gives up after the barrier's own timeout.
     */
    void awaitRelease() {
        Duration bound = settings.timeout().plusSeconds(5);
        try {
            if (!done.await(bound.toMillis(), TimeUnit.MILLISECONDS)) {
                Agent.fail(
                        new MusterException(
                                ExitCodes.TIMEOUT,
                                "the application entered " + settings.awaitClass()
                                        + "#" + settings.awaitMethod() + " but this task "
                                        + (started.get()
                                                ? "was not released"
                                                : "never arrived (no listening socket was bound"
                                                        + (settings.arrivePort() > 0
                                                                ? " on port " + settings.arrivePort()
                                                                : "")
                                                        + ")")
                                        + " within " + bound.toSeconds() + " s; check arrive="
                                        + " and await="),
                        settings.continueOnFailure());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
