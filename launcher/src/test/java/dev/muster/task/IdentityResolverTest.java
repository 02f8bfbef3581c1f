package dev.muster.task;

import static dev.muster.task.IdentityResolver.env;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IdentityResolverTest {
    private static TaskIdentity resolve(Map<String, String> env) {
        return IdentityResolver.resolve(env, x -> "host");
    }

    private static Map<String, String> srunTask(int rank, int size) {
        return env(
                "SLURM_JOB_ID",
                "42",
                "SLURM_STEP_ID",
                "0",
                "SLURM_PROCID",
                Integer.toString(rank),
                "SLURM_NTASKS",
                Integer.toString(size),
                "SLURM_STEP_NUM_TASKS",
                Integer.toString(size),
                "SLURM_LOCALID",
                "1",
                "SLURMD_NODENAME",
                "n2",
                "SLURM_CLUSTER_NAME",
                "alps",
                "SLURM_SRUN_COMM_PORT",
                "40001",
                "SLURM_NODEID",
                "1",
                "SLURM_STEP_TASKS_PER_NODE",
                "4(x2)");
    }

    @Test
    void slurmStep_readsRankSizeNodeAndSources() {
        TaskIdentity id = resolve(srunTask(5, 8));
        assertEquals("slurm", id.launcher());
        assertEquals(5, id.rank());
        assertEquals(8, id.size());
        assertEquals(1, id.localRank());
        assertEquals(4, id.localSize());
        assertEquals("n2", id.node());
        assertEquals("SLURM_PROCID", id.source("rank"));
        assertEquals("SLURM_STEP_NUM_TASKS", id.source("size"));
        assertEquals("alps.42.0.p40001", id.key());
        assertTrue(id.inStep());
    }

    @Test
    void key_differsForRestartClusterStepAndSrun() {
        String base = resolve(srunTask(0, 2)).key();
        Map<String, String> restarted = srunTask(0, 2);
        restarted.put("SLURM_RESTART_COUNT", "1");
        Map<String, String> otherCluster = srunTask(0, 2);
        otherCluster.put("SLURM_CLUSTER_NAME", "daint");
        Map<String, String> otherStep = srunTask(0, 2);
        otherStep.put("SLURM_STEP_ID", "1");
        Map<String, String> otherSrun = srunTask(0, 2);
        otherSrun.put("SLURM_SRUN_COMM_PORT", "40002");
        for (Map<String, String> e : java.util.List.of(restarted, otherCluster, otherStep, otherSrun)) {
            assertNotEquals(base, resolve(e).key(), e.toString());
        }
    }

    @Test
    void batchScript_isOneTaskWithoutBarrier() {
        TaskIdentity id = resolve(env("SLURM_JOB_ID", "42", "SLURM_PROCID", "0", "SLURM_NTASKS", "16"));
        assertEquals("slurm-batch", id.launcher());
        assertEquals(1, id.size());
        assertFalse(id.inStep());
    }

    @Test
    void openMpiInsideSlurm_usesMpiRanksNotTheStepsProcid() {
        Map<String, String> e = srunTask(0, 1);
        e.putAll(env(
                "OMPI_COMM_WORLD_RANK",
                "3",
                "OMPI_COMM_WORLD_SIZE",
                "4",
                "OMPI_COMM_WORLD_LOCAL_RANK",
                "3",
                "OMPI_MCA_ess_base_jobid",
                "123456",
                "PMIX_RANK",
                "3",
                "PMIX_NAMESPACE",
                "prterun-x"));
        TaskIdentity id = resolve(e);
        assertEquals("openmpi", id.launcher());
        assertEquals(3, id.rank());
        assertEquals(4, id.size());
        assertEquals("OMPI_COMM_WORLD_RANK", id.source("rank"));
        assertEquals("alps.42.openmpi-123456", id.key());
    }

    /**
     * The MPI launchers the README names besides Open MPI: each one's rank, size, local rank and local size come
     * from its own variables (not the Slurm step's), and the key names the launcher.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource({
        "mpich,    PMI_RANK,            PMI_SIZE,            MPI_LOCALRANKID,           MPI_LOCALNRANKS",
        "mvapich2, MV2_COMM_WORLD_RANK, MV2_COMM_WORLD_SIZE, MV2_COMM_WORLD_LOCAL_RANK, MV2_COMM_WORLD_LOCAL_SIZE",
        "pals,     PALS_RANKID,         PALS_SIZE,           PALS_LOCAL_RANKID,         PALS_LOCAL_SIZE"
    })
    void mpiLaunchersInsideSlurm_useTheirOwnVariables(
            String launcher, String rank, String size, String localRank, String localSize) {
        Map<String, String> e = srunTask(0, 1);
        e.putAll(env(rank, "5", size, "12", localRank, "2", localSize, "3"));
        TaskIdentity id = resolve(e);
        assertEquals(launcher, id.launcher());
        assertEquals(5, id.rank());
        assertEquals(12, id.size());
        assertEquals(2, id.localRank());
        assertEquals(3, id.localSize());
        assertEquals(rank, id.source("rank"));
        assertTrue(id.key().contains(launcher), id.key());
    }

    /** Flux outside Slurm: its own job id ties the tasks of one run together. */
    @Test
    void flux_usesItsRankSizeAndJobId() {
        TaskIdentity id = resolve(
                env("FLUX_TASK_RANK", "7", "FLUX_JOB_SIZE", "8", "FLUX_TASK_LOCAL_ID", "3", "FLUX_JOB_ID", "f2abc"));
        assertEquals("flux", id.launcher());
        assertEquals(7, id.rank());
        assertEquals(8, id.size());
        assertEquals(3, id.localRank());
        assertEquals("f2abc", id.jobId());
        assertTrue(id.key().endsWith("flux-f2abc"), id.key());
    }

    /** MPICH (Hydra) outside Slurm has no job id of its own: refused with 78 rather than guessed. */
    @Test
    void mpichOutsideAnyJob_isRefusedAsUnclear() {
        MusterException ex = org.junit.jupiter.api.Assertions.assertThrows(
                MusterException.class, () -> resolve(env("PMI_RANK", "1", "PMI_SIZE", "2")));
        assertEquals(78, ex.status(), ex.getMessage());
        assertTrue(ex.getMessage().contains("PMI_RANK"), ex.getMessage());
    }

    @Test
    void pmixDirectLaunch_takesSizeFromSlurm() {
        Map<String, String> e = srunTask(6, 8);
        e.putAll(env("PMIX_RANK", "6", "PMIX_NAMESPACE", "slurm.pmix.42.0"));
        TaskIdentity id = resolve(e);
        assertEquals("pmix", id.launcher());
        assertEquals(6, id.rank());
        assertEquals(8, id.size());
    }

    @Test
    void torchrun_winsOverSlurm() {
        Map<String, String> e = srunTask(0, 1);
        e.putAll(env("TORCHELASTIC_RUN_ID", "abc", "RANK", "2", "WORLD_SIZE", "4", "LOCAL_RANK", "0"));
        TaskIdentity id = resolve(e);
        assertEquals("torchrun", id.launcher());
        assertEquals(2, id.rank());
    }

    @Test
    void exportedRankVariables_areNotReadBackAsIdentity() {
        // what muster run exported into an earlier program's environment
        TaskIdentity id = resolve(env("MUSTER_RANK", "3", "MUSTER_SIZE", "4", "RANK", "3", "WORLD_SIZE", "4"));
        assertEquals("none", id.launcher());
        assertEquals(0, id.rank());
    }

    @Test
    void localTasks_areRecognisedByTheirJob() {
        TaskIdentity id =
                resolve(env("MUSTER_LOCAL_JOB", "99-ab", "MUSTER_RANK", "1", "MUSTER_SIZE", "3", "MUSTER_NODE", "box"));
        assertEquals("local", id.launcher());
        assertEquals(1, id.rank());
        assertEquals("local.99-ab", id.key());
    }

    @Test
    void rankNotBelowSize_isRefusedNamingBothVariables() {
        MusterException e = assertThrows(MusterException.class, () -> resolve(srunTask(8, 8)));
        assertEquals(78, e.status());
        assertTrue(e.getMessage().contains("SLURM_PROCID=8"), e.getMessage());
        assertTrue(e.getMessage().contains("SLURM_STEP_NUM_TASKS=8"), e.getMessage());
    }

    @Test
    void nonNumericRank_isRefusedNamingTheValue() {
        Map<String, String> e = srunTask(0, 2);
        e.put("SLURM_PROCID", "x");
        MusterException ex = assertThrows(MusterException.class, () -> resolve(e));
        assertEquals(78, ex.status());
        assertTrue(ex.getMessage().contains("SLURM_PROCID='x'"), ex.getMessage());
    }

    @Test
    void disagreeingMpiLaunchers_cannotBeToldApart() {
        MusterException ex = assertThrows(
                MusterException.class,
                () -> resolve(env(
                        "OMPI_COMM_WORLD_RANK",
                        "1",
                        "OMPI_COMM_WORLD_SIZE",
                        "2",
                        "PMI_RANK",
                        "0",
                        "PMI_SIZE",
                        "2",
                        "SLURM_JOB_ID",
                        "1")));
        assertEquals(78, ex.status());
    }

    @Test
    void keys_areOnePathComponent() {
        Map<String, String> e = srunTask(0, 1);
        e.put("SLURM_CLUSTER_NAME", "../etc/x y");
        String key = resolve(e).key();
        assertFalse(key.contains("/"), key);
        assertFalse(key.startsWith("."), key);
    }
}
