package dev.muster.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Identity resolution from random environments: whatever mix of launcher variables a task inherits, the answer is
 * a rank below the size or one line with exit 78, and never an exception of another kind.
 */
class IdentityPropertyTest {
    /** Every variable the resolver reads (DESIGN §3), plus neighbours it must ignore. */
    private static final List<String> VARS = List.of(
            "SLURM_JOB_ID",
            "SLURM_STEP_ID",
            "SLURM_PROCID",
            "SLURM_NTASKS",
            "SLURM_STEP_NUM_TASKS",
            "SLURM_LOCALID",
            "SLURMD_NODENAME",
            "SLURM_CLUSTER_NAME",
            "SLURM_RESTART_COUNT",
            "SLURM_SRUN_COMM_PORT",
            "SLURM_NODEID",
            "SLURM_STEP_TASKS_PER_NODE",
            "SLURM_TASKS_PER_NODE",
            "SLURM_STEP_NODELIST",
            "OMPI_COMM_WORLD_RANK",
            "OMPI_COMM_WORLD_SIZE",
            "OMPI_COMM_WORLD_LOCAL_RANK",
            "OMPI_MCA_ess_base_jobid",
            "PMIX_RANK",
            "PMIX_NAMESPACE",
            "PMI_RANK",
            "PMI_SIZE",
            "MPI_LOCALRANKID",
            "MV2_COMM_WORLD_RANK",
            "MV2_COMM_WORLD_SIZE",
            "MV2_COMM_WORLD_LOCAL_RANK",
            "PALS_RANKID",
            "PALS_SIZE",
            "PALS_LOCAL_RANKID",
            "FLUX_TASK_RANK",
            "FLUX_JOB_SIZE",
            "FLUX_TASK_LOCAL_ID",
            "FLUX_JOB_ID",
            "RANK",
            "WORLD_SIZE",
            "LOCAL_RANK",
            "TORCHELASTIC_RUN_ID",
            "MUSTER_LOCAL_JOB",
            "MUSTER_RANK",
            "MUSTER_SIZE",
            "MUSTER_LOCAL_RANK",
            "MUSTER_NODE",
            "MUSTER_BARRIER_KEY",
            "HOSTNAME");

    private static String value(Random r) {
        return switch (r.nextInt(8)) {
            case 0, 1, 2 -> Integer.toString(r.nextInt(8));
            case 3 -> Integer.toString(r.nextInt(100_000));
            case 4 -> Long.toString(r.nextLong());
            case 5 -> "";
            case 6 -> "n[1-" + (1 + r.nextInt(9)) + "]";
            default -> Gen.string(r, 12);
        };
    }

    @Test
    void identity_fromRandomEnvironments_isARankBelowSize_orOneLine78() {
        long seed = Gen.seed();
        Random r = new Random(seed);
        int resolved = 0;
        for (int i = 0; i < 8_000; i++) {
            Map<String, String> env = new HashMap<>();
            for (int v = r.nextInt(12); v > 0; v--) {
                env.put(VARS.get(r.nextInt(VARS.size())), value(r));
            }
            if (r.nextBoolean()) { // a consistent launcher underneath half of the time
                int size = 1 + r.nextInt(64);
                env.put("SLURM_JOB_ID", "42");
                env.put("SLURM_STEP_ID", "0");
                env.put("SLURM_PROCID", Integer.toString(r.nextInt(size)));
                env.put("SLURM_NTASKS", Integer.toString(size));
            }
            try {
                TaskIdentity id = IdentityResolver.resolve(env, x -> "host");
                resolved++;
                assertTrue(
                        id.rank() >= 0 && id.rank() < id.size(),
                        "seed " + seed + " case " + i + ": " + id + " from " + env);
                assertTrue(id.localRank() >= 0, "seed " + seed + " case " + i + ": " + id);
                assertEquals(
                        id,
                        IdentityResolver.resolve(new HashMap<>(env), x -> "host"),
                        "seed " + seed + ": the same environment, the same identity");
                assertFalse(
                        id.key() == null || id.key().contains("/") || id.key().contains("\n"),
                        "seed " + seed + ": the key is one path component: " + id.key() + " from " + env);
            } catch (MusterException e) {
                assertEquals(ExitCodes.IDENTITY, e.status(), "seed " + seed + " case " + i + ": " + e.getMessage());
            } catch (RuntimeException e) {
                fail("seed " + seed + " case " + i + ": " + e + " from " + env, e);
            }
        }
        assertTrue(resolved > 500, "seed " + seed + ": only " + resolved + " environments resolved");
    }
}
