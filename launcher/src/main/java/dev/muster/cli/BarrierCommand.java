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
final class BarrierCommand {
    private final Map<String, String> env;

    BarrierCommand(Map<String, String> env) {
        this.env = env;
    }

    int call(List<String> argv) {
        Options o = new Options(env);
        Args a = new Args("barrier", argv);
        while (a.moreOptions()) {
            String flag = a.option();
            if (o.read(flag, a)) {
                continue;
            }
            if (flag.equals("--help") || flag.equals("-h")) {
                System.out.print(Help.BARRIER);
                return ExitCodes.OK;
            }
            throw a.unknown(flag);
        }
        a.end();
        o.applyLogLevel();
        TaskIdentity id = IdentityResolver.resolve(env);
        Log.rank(id.rank());
        if (!id.inStep()) {
            throw MusterException.identity(id.launcher().equals("slurm-batch")
                    ? "barrier: this is the batch script, one process, not a step: waiting for SLURM_NTASKS tasks "
                            + "would hang; run it in a step (srun muster barrier)"
                    : "barrier: no launcher variables (SLURM_PROCID, OMPI_COMM_WORLD_RANK, ...) are set; run it "
                            + "under srun, mpirun or muster local");
        }
        StepSync sync = new StepSync(id, StepSync.key(id, o.name), SyncRoot.resolve(o.syncDir, env).prepare(),
                o.settings(), o.trace, env);
        sync.prepare();
        sync.await(Map.of());
        Log.debug("released");
        return ExitCodes.OK;
    }
}
