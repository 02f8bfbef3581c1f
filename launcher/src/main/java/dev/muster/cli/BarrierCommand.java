package dev.muster.cli;

import dev.muster.barrier.StepSync;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;
import java.util.List;
import java.util.Map;

/** {@code muster barrier [options]}: the step barrier alone, for shell scripts. */
final class BarrierCommand implements Command {
    @Override
    public String name() {
        return "barrier";
    }

    @Override
    public String help() {
        return """
            usage: muster barrier [options]

            Returns when every task of the step has arrived. Exit 75 on timeout (naming the missing ranks), the
            aborting task's code when one aborts, 78 outside a step.
            """ + Options.HELP;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        Map<String, String> env = ctx.env();
        Options o = new Options(env);
        if (!optionsOnly(argv, o, ctx)) {
            return ExitCodes.OK;
        }
        TaskIdentity id = IdentityResolver.resolve(env);
        Log.rank(id.rank());
        if (!id.inStep()) {
            throw MusterException.identity(
                    id.launcher().equals("slurm-batch")
                            ? "barrier: this is the batch script, one process, not a step: waiting for SLURM_NTASKS tasks "
                                    + "would hang; run it in a step (srun muster barrier)"
                            : "barrier: no launcher variables (SLURM_PROCID, OMPI_COMM_WORLD_RANK, ...) are set; run it "
                                    + "under srun, mpirun or muster local");
        }
        StepSync sync = new StepSync(
                id,
                StepSync.key(id, o.name),
                SyncRoot.resolve(o.syncDir, env).prepare(),
                o.settings(),
                o.transport,
                o.trace,
                env);
        sync.prepare();
        sync.await(Map.of());
        Log.debug("released");
        return ExitCodes.OK;
    }
}
