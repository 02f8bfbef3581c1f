package dev.muster.cli;

import dev.muster.barrier.Outcome;
import dev.muster.barrier.Release;
import dev.muster.exec.Handover;
import dev.muster.exec.Waiter;
import dev.muster.exec.WaiterPlan;
import dev.muster.task.TaskIdentity;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code run}'s offer of its last wait to the small waiter (docs/barrier.md, "The small waiter"): everything the
 * program's environment holds that is known before the release, and which release keys become which variables.
 */
final class WaiterOffer implements Handover.Taker {
    private final WaiterPlan plan;
    /** The waiter's environment but for what the connection decides ({@link Waiter#environment}). */
    private final Map<String, String> prepared;

    private WaiterOffer(WaiterPlan plan, Map<String, String> prepared) {
        this.plan = plan;
        this.prepared = prepared;
    }

    /**
     * The offer, or null when this task waits in its JVM: {@code --no-waiter},
     * no waiter found, no libmuster.so (a signal during the hand-off could be lost without it), or what the waiter does not do: a roster, --start services, a
     * rendezvous registration (their work follows the release in the JVM).
     */
    static WaiterOffer of(
            RunFlags f,
            TaskIdentity id,
            Map<String, String> env,
            String key,
            Path program,
            boolean registers,
            boolean services,
            Thread prepare) {
        if (f.noWaiter
                || env.containsKey(Waiter.RESUME) // started again by a waiter whose hello was refused
                || f.dryRun
                || f.roster
                || services
                || registers
                || !dev.muster.exec.Exec.nativeExec()) {
            return null;
        }
        Path waiter = Waiter.find(env);
        if (waiter == null) {
            return null;
        }
        if (!dev.muster.core.NativeLibrary.loaded()) {
            dev.muster.core.Log.debug("no libmuster.so to keep a signal across the exec of the small waiter: waiting "
                    + "in the JVM (docs/barrier.md, \"The small waiter\")");
            return null;
        }
        // the variables as the in-JVM path sets them for a release without data; the release's own follow
        Map<String, String> exports = RunCommand.exports(id, Outcome.release(0, Map.of()), key, f.torchrun);
        List<String> keys = new ArrayList<>();
        keys.add(Release.MASTER_ADDR + "=MUSTER_MASTER_ADDR");
        if (f.torchrun) {
            keys.add(Release.MASTER_ADDR + "=MASTER_ADDR");
            keys.add(Release.MASTER_PORT + "=MASTER_PORT");
        }
        WaiterPlan plan = new WaiterPlan(waiter, program, List.copyOf(f.command), env, exports, keys, f.barrier.trace);
        // Before the hello, not after rank 0's ok: for the last task to arrive the release follows the ok within
        // milliseconds, and what is left to do then (docs/performance.md, stage 4) is the exec of the waiter.
        try {
            prepare.join(); // the native exec handles
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        Map<String, String> prepared = Waiter.environment(plan);
        return prepared == null ? null : new WaiterOffer(plan, prepared);
    }

    @Override
    public void prepare() {
        dev.muster.exec.SignalGate.close();
    }

    @Override
    public void cancel() {
        dev.muster.exec.SignalGate.open(true);
    }

    @Override
    public void take(Handover h) {
        Waiter.exec(plan, prepared, h);
    }
}
