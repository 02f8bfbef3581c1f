package dev.muster.barrier;

import dev.muster.task.SlurmLists;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/** Which node a rank was expected on, for timeout messages: Slurm's node list and tasks per node, block order. */
public final class StepLayout {
    private StepLayout() {}

    /** A rank → node function, or null when the environment does not tell (or the distribution is not block). */
    public static IntFunction<String> fromSlurm(Map<String, String> env) {
        String nodes = env.getOrDefault("SLURM_STEP_NODELIST", env.get("SLURM_JOB_NODELIST"));
        String counts = env.getOrDefault("SLURM_STEP_TASKS_PER_NODE", env.get("SLURM_TASKS_PER_NODE"));
        String dist = env.getOrDefault("SLURM_DISTRIBUTION", "block");
        if (nodes == null || counts == null || !dist.startsWith("block")) {
            return null;
        }
        try {
            List<String> hosts = SlurmLists.expandHosts(nodes);
            List<Integer> perNode = SlurmLists.expandCounts(counts);
            if (hosts.size() != perNode.size()) {
                return null;
            }
            return rank -> {
                int r = rank;
                for (int i = 0; i < hosts.size(); i++) {
                    if (r < perNode.get(i)) {
                        return hosts.get(i);
                    }
                    r -= perNode.get(i);
                }
                return null;
            };
        } catch (RuntimeException e) {
            return null;
        }
    }
}
