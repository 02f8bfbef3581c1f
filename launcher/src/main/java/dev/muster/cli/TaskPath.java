package dev.muster.cli;

import dev.muster.barrier.Outcome;
import dev.muster.barrier.Release;
import dev.muster.barrier.StepSync;
import dev.muster.barrier.SyncRoot;
import dev.muster.barrier.Transport;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.exec.CommandLookup;
import dev.muster.exec.Exec;
import dev.muster.exec.Waiter;
import dev.muster.service.StartUp;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;
import java.util.Map;
import java.util.TreeMap;

/**
 * One task's way through {@code run}, one method a step: {@link #identity}, {@link #preflight}, then either
 * {@link #alone} or {@link #atBarrier} (which resolve and register rendezvous names around the barrier),
 * the environment ({@code RunCommand.exports}), and {@link #exec} (or the dry run's printout).
 */
final class TaskPath {
    private final Context ctx;
    private final Map<String, String> env;
    private final RunFlags f;
    private RunRendezvous rdzv;
    private TaskIdentity id;
    private StartUp startUp;
    private CommandLookup.Result program;
    private Thread prepare;
    /** The program's environment, built before the barrier; the release's values are added to it. */
    private Map<String, String> childEnv;

    private String key;
    private boolean registers;
    private RosterCard card;
    private Map<String, String> rosterEnv = Map.of();

    TaskPath(Context ctx, RunFlags f) {
        this.ctx = ctx;
        this.env = ctx.env();
        this.f = f;
    }

    int run() {
        identity();
        preflight();
        Map<String, String> clientEnv = Map.of();
        Outcome release = null;
        if (needsBarrier()) {
            release = atBarrier();
        } else {
            clientEnv = alone();
        }
        if (!program.ok()) {
            throw new MusterException(program.code(), program.problem());
        }
        Map<String, String> exported = RunCommand.exports(id, release, key, f.torchrun);
        exported.putAll(clientEnv);
        exported.putAll(rosterEnv);
        return f.dryRun ? dryRun(exported) : exec(exported);
    }

    /** Who this task is; with a rendezvous option, the names are checked and the barrier waits that much longer. */
    private void identity() {
        // only now, and only with a rendezvous option, are the rendezvous classes loaded
        RendezvousFlags rf = f.rendezvous;
        rdzv = rf.client() || rf.provider() ? new RunRendezvous(rf, env) : null;
        if (rdzv != null) {
            rdzv.validate();
            // rank 0 arrives only once the names resolved: the others wait that much longer
            f.barrier.timeout = f.barrier.timeout.plus(rdzv.longestWait());
        }
        id = IdentityResolver.resolve(env);
        Log.rank(id.rank());
        registers = rdzv != null && rdzv.registersHere(id);
        key = StepSync.key(id, f.barrier.name);
    }

    /** Can the command start, which services will start; the exec's native handles are built meanwhile. */
    private void preflight() {
        StartFlags sf = f.services;
        // only with --start or --arrive-when are the service classes loaded
        startUp = sf.used() && !f.dryRun
                ? new StartUp(
                        sf.commands,
                        sf.probes,
                        sf.arriveTimeout != null ? sf.arriveTimeout : f.barrier.timeout,
                        ctx.clock())
                : null;
        if (sf.used() && f.dryRun) {
            Log.info("--dry-run: not starting " + sf.commands.size() + " --start command(s), not probing "
                    + sf.probes.size() + " --arrive-when probe(s)");
        }
        program = CommandLookup.find(f.command.get(0), env);
        childEnv = new TreeMap<>(env);
        childEnv.remove(Waiter.RESUME); // a JVM the small waiter started again to wait anew (StepSync.REFUSED)
        childEnv.remove(Waiter.DETAIL);
        // Building the native exec handles costs tens of milliseconds in a cold JVM: do it while waiting, not
        // after the release.
        prepare = new Thread(Exec::prepare, "muster-exec-prepare");
        prepare.setDaemon(true);
        prepare.start();
    }

    private boolean needsBarrier() {
        if (!id.inStep()) {
            if (id.launcher().equals("slurm-batch") && !f.noBarrier && rdzv == null) {
                Log.info("this is the batch script, a single process: no barrier here; start the tasks with srun "
                        + "to synchronise them");
            }
            return false;
        }
        if (f.noBarrier) {
            Log.debug("--no-barrier: not waiting for the other tasks");
            return false;
        }
        if (key.equals(env.get("MUSTER_BARRIER_KEY"))) {
            Log.debug("this step's barrier was already passed (MUSTER_BARRIER_KEY=" + key + ")");
            return false;
        }
        return true;
    }

    /**
     * Prepares the step, or, in a JVM the small waiter started again, ends the wait as it would have ended here; a
     * JVM that waits anew ({@link Waiter#REFUSED}) prepared the step before it handed over, and would now take its
     * own arrival file, or a release it has not seen yet, for an earlier step's leftovers.
     */
    private void resumeOrPrepare(StepSync sync) {
        if (Waiter.REFUSED.equals(env.get(Waiter.RESUME))) {
            Log.debug("the small waiter's hello was not accepted (" + env.get(Waiter.DETAIL) + "): waiting in the JVM");
            return;
        }
        if (env.containsKey(Waiter.RESUME)) {
            sync.resume(env.get(Waiter.RESUME), env.getOrDefault(Waiter.DETAIL, "")); // returns never
        }
        sync.prepare();
    }

    /** No barrier: check the command, the provider, resolve the names and start the services here. */
    private Map<String, String> alone() {
        if (!program.ok()) {
            throw new MusterException(program.code(), program.problem());
        }
        if (registers) {
            rdzv.checkProvider(id);
        }
        Map<String, String> clientEnv = f.rendezvous.client() ? rdzv.resolve() : Map.of();
        if (startUp != null) {
            RunServices.start(startUp, env, id, null);
        }
        return clientEnv;
    }

    /**
     * The barrier: a command that cannot start aborts the step; services start before arriving; rank 0 resolves
     * the rendezvous names and hands them out in the release, so that every rank exports the same endpoints.
     */
    private Outcome atBarrier() {
        Options o = f.barrier;
        StepSync sync = new StepSync(
                id, key, SyncRoot.resolve(o.syncDir, env).prepare(), o.settings(), o.transport, o.trace, env);
        resumeOrPrepare(sync);
        if (!program.ok()) {
            sync.abort(program.code(), program.problem());
            throw new MusterException(program.code(), program.problem());
        }
        if (f.roster) {
            try {
                card = RosterCard.make(f, id, env);
                sync.card(card.card());
            } catch (MusterException e) {
                sync.abort(e.status(), e.getMessage());
                throw e;
            }
        }
        if (startUp != null) {
            RunServices.start(startUp, env, id, sync);
        }
        Map<String, String> data = Map.of();
        try {
            if (registers) {
                rdzv.checkProvider(id);
            }
            if (id.rank() == 0) {
                data = releaseData();
            }
        } catch (MusterException e) {
            sync.abort(e.status(), e.getMessage());
            stopServices();
            throw e;
        }
        if (program.ok()) {
            WaiterOffer offer = WaiterOffer.of(f, id, env, key, program.path(), registers, startUp != null, prepare);
            if (offer != null) {
                sync.handOver(offer);
            }
        }
        try {
            Outcome released = sync.await(data);
            if (card != null && sync.roster() != null) {
                rosterEnv = card.exports(sync.roster(), env, key, id);
            }
            return released;
        } catch (RuntimeException e) {
            stopServices();
            throw e;
        }
    }

    /** Rank 0's release data: the torchrun variables, the roster's request, the resolved rendezvous names. */
    private Map<String, String> releaseData() {
        Map<String, String> data = RunCommand.releaseData(id, f.torchrun);
        if (f.roster) {
            data.put(dev.muster.barrier.Roster.WANTED, "1");
            if (f.address != null) {
                // MASTER_ADDR becomes the address rank 0 chose, not its node name
                data.put(Release.MASTER_ADDR, card.card().address());
            }
        }
        if (f.rendezvous.client()) {
            Release.putEnv(data, rdzv.resolve());
        }
        return data;
    }

    /** Prints the export lines and the exec line instead of running the command. */
    private int dryRun(Map<String, String> exported) {
        join(prepare);
        if (f.barrier.transport.mode() == Transport.Mode.TCP) {
            // scripts/muster trains its start-up archive with a dry run: load what the TCP path needs then
            StepSync.warmUpTcp();
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : exported.entrySet()) {
            b.append("export ")
                    .append(e.getKey())
                    .append('=')
                    .append(Shell.quote(e.getValue()))
                    .append('\n');
        }
        b.append("exec");
        for (String c : f.command) {
            b.append(' ').append(Shell.quote(c));
        }
        ctx.out().print(b.append('\n'));
        if (registers) {
            Log.info(rdzv.describeProvider(id));
        }
        return ExitCodes.OK;
    }

    private int exec(Map<String, String> exported) {
        childEnv.putAll(exported);
        try {
            if (registers) {
                // before the exec: afterwards no muster code runs in this process
                rdzv.startRegistrar(id);
            }
            join(prepare);
            // Java 17-21: muster waits for the program, then stops the services itself; after a true exec their
            // supervisors see the task end
            return Exec.replace(program.path(), f.command, childEnv, startUp == null ? null : startUp::stop);
        } catch (RuntimeException e) {
            stopServices();
            throw e;
        }
    }

    private void stopServices() {
        if (startUp != null) {
            startUp.stop();
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
