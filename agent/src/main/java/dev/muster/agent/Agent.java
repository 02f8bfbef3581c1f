package dev.muster.agent;

import dev.muster.agent.bind.Hooks;
import dev.muster.barrier.StepSync;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.roster.AddressChoice;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;
import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What {@code premain} does: settings, identity, then one of two paths.
 *
 * <ul>
 * <li>Gate {@code main} (default): arrive and wait right here, in premain; {@code main} runs after the release.
 *     No byte-buddy class is loaded on this path (it costs ~300 ms of start-up).
 * <li>Arrive when ready ({@code arrive=bind}, {@code await=Cls#method}, {@code register} with {@code port=auto}):
 *     advice on the JDK's server-socket bind and on the await method; {@code main} runs at once.
 * </ul>
 */
final class Agent {
    /** Test-only switch: throws inside the agent to prove that a fault never stops the application. */
    static final String TEST_FAULT = "muster.agent.testFault";

    private final AgentSettings settings;
    private final Gate gate;
    private final Rendezvous rendezvous;
    private final AtomicBoolean arrivedOnBind = new AtomicBoolean();
    private final AtomicBoolean registered = new AtomicBoolean();

    private Agent(AgentSettings settings, TaskIdentity id, Map<String, String> env, boolean barrier) {
        this.settings = settings;
        this.rendezvous = new Rendezvous(settings, id, env);
        if (barrier && settings.roster()) {
            AddressChoice address = AddressChoice.resolve(null, id.node());
            Map<String, Integer> ports = ClusterProperties.ports(settings.clusters(), System.getProperties());
            // now, before main: the library reads its port and address when the application starts it
            ports.forEach((lib, port) ->
                    ClusterProperties.own(lib, address.address(), port).forEach(RosterProperties::put));
            this.gate = new Gate(settings, id, env, rendezvous, address, ports);
        } else {
            this.gate = barrier ? new Gate(settings, id, env, rendezvous, null, Map.of()) : null;
        }
    }

    static void start(String args, Instrumentation inst) {
        Map<String, String> env = System.getenv();
        SettingSource source = SettingSource.collect(args, System.getProperties(), env);
        if (!AgentSettings.enabled(source)) {
            return; // the kill switch: no effect at all, not even a line
        }
        TaskIdentity id = null;
        MusterException unclear = null;
        try {
            id = IdentityResolver.resolve(env);
            Log.rank(id.rank()); // before any message, so that even a bad option's line names the task
        } catch (MusterException e) {
            unclear = e;
        }
        AgentSettings settings;
        try {
            settings = AgentSettings.from(source);
        } catch (MusterException e) {
            fail(e, AgentSettings.continueOnFailure(source));
            return;
        }
        Log.level(settings.verbose() ? Log.Level.VERBOSE : settings.quiet() ? Log.Level.QUIET : Log.Level.NORMAL);
        if (unclear != null) {
            fail(unclear, settings.continueOnFailure());
            return;
        }
        if (Boolean.getBoolean(TEST_FAULT)) {
            throw new IllegalStateException("test fault injected (-D" + TEST_FAULT + "=true)");
        }
        boolean barrier = true;
        String key = StepSync.key(id, settings.name());
        if (!id.inStep()) {
            Log.debug("not a task of a parallel step ("
                    + (id.launcher().equals("none")
                            ? "no launcher variables"
                            : "the batch script; run the program under srun")
                    + "): no barrier");
            barrier = false;
        } else if (key.equals(env.get("MUSTER_BARRIER_KEY"))) {
            Log.debug("this step's barrier was already passed (MUSTER_BARRIER_KEY=" + key + ")");
            barrier = false;
        }
        try {
            Agent agent = new Agent(settings, id, env, barrier);
            if (settings.needsInstrumentation()) {
                agent.instrument(inst);
            } else {
                agent.gateMain();
            }
        } catch (MusterException e) {
            fail(e, settings.continueOnFailure());
        }
    }

    /** The default path: wait here; main starts after the release. */
    private void gateMain() {
        if (gate != null) {
            gate.pass();
        } else {
            rendezvous.resolveAndPublish();
        }
        if (settings.register() != null) {
            rendezvous.startRegistrar(settings.port());
        }
    }

    /** The advice path: main runs now; the bind reports the port, the await method holds until the release. */
    private void instrument(Instrumentation inst) {
        Hooks.listen(new Hooks.Listener() {
            @Override
            public void bound(int port) {
                onBound(port);
            }

            @Override
            public void entered() {
                if (gate != null) {
                    gate.awaitRelease();
                }
            }
        });
        // the only reference to byte-buddy: a class of its own, loaded on this path alone
        dev.muster.agent.bind.Instrumenter.install(
                inst, settings.arriveOnBind() || settings.port() == 0, settings.awaitClass(), settings.awaitMethod());
        if (gate == null) {
            rendezvous.resolveAndPublish();
        } else if (settings.arriveOnBind()) {
            Log.debug("arriving when the application listens"
                    + (settings.arrivePort() > 0 ? " on port " + settings.arrivePort() : ""));
        } else if (settings.awaitClass() != null) {
            gate.passAsync(); // arrive now; the await method holds the application
        } else {
            gate.pass(); // register with port=auto needs the bind report, but main is still gated
        }
        if (settings.register() != null && settings.port() > 0) {
            rendezvous.startRegistrar(settings.port());
        }
    }

    private void onBound(int port) {
        Log.debug("the application listens on port " + port);
        if (settings.arriveOnBind()
                && gate != null
                && (settings.arrivePort() == 0 || settings.arrivePort() == port)
                && arrivedOnBind.compareAndSet(false, true)) {
            gate.bound(port);
            gate.passAsync();
        }
        if (settings.register() != null && settings.port() == 0 && registered.compareAndSet(false, true)) {
            rendezvous.startRegistrar(port);
        }
    }

    /**
     * A deliberate failure: one line, then {@code System.exit} with the failure's code (the barrier's: 75, the
     * peer's, 76 ...; 2 for a bad option), unless {@code onfailure=continue}.
     */
    static void fail(MusterException e, boolean continueOnFailure) {
        Log.error(e.getMessage() + (continueOnFailure ? "; the application starts anyway (onfailure=continue)" : ""));
        if (Log.verbose() && e.getCause() != null) {
            e.printStackTrace();
        }
        if (!continueOnFailure) {
            System.exit(e.status());
        }
    }
}
