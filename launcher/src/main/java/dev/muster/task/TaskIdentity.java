package dev.muster.task;

import java.util.Map;

/**
 * Who this task is: resolved once from the environment, with the variable each value came from kept in
 * {@code sources} for {@code muster explain}.
 *
 * @param launcher   what started the task: slurm, openmpi, pmix, mpich, mvapich2, pals, flux, torchrun, local,
 *                   slurm-batch (the batch script) or none
 * @param stepId     null outside a step (batch script, no launcher)
 * @param key        the barrier key: distinct for every step, restart and srun of every job on every cluster
 * @param localSize  tasks of this step on this node, 0 when unknown
 */
public record TaskIdentity(
        String launcher,
        int rank,
        int size,
        int localRank,
        int localSize,
        String node,
        String jobId,
        String stepId,
        int restart,
        String cluster,
        String key,
        Map<String, String> sources) {

    public TaskIdentity {
        sources = Map.copyOf(sources);
    }

    /** True when this process is one task of a parallel step, i.e. when a barrier means something. */
    public boolean inStep() {
        return !launcher.equals("slurm-batch") && !launcher.equals("none");
    }

    public String source(String field) {
        return sources.getOrDefault(field, "");
    }
}
