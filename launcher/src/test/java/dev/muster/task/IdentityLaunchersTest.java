package dev.muster.task;

import static dev.muster.task.IdentityResolver.env;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Identity under each launcher's variables, where they are missing or contradict each other: local rank and
 * size fall back to Slurm's, the launcher's job id to the step, defaults are named in the sources, and keys
 * stay one path component.
 */
class IdentityLaunchersTest {
    private static TaskIdentity resolve(Map<String, String> env) {
        return IdentityResolver.resolve(env, x -> "host");
    }

    private static MusterException refused(Map<String, String> env) {
        MusterException e = assertThrows(MusterException.class, () -> resolve(env));
        assertEquals(78, e.status());
        return e;
    }

    @Test
    void mpich_localRankAndSize_fromItsOwnVariables_elseSlurmsLocalIdAndZero() {
        TaskIdentity own = resolve(env(
                "PMI_RANK",
                "1",
                "PMI_SIZE",
                "4",
                "MPI_LOCALRANKID",
                "2",
                "MPI_LOCALNRANKS",
                "3",
                "SLURM_LOCALID",
                "7",
                "SLURM_JOB_ID",
                "42"));
        assertEquals(2, own.localRank());
        assertEquals(3, own.localSize());
        TaskIdentity slurms =
                resolve(env("PMI_RANK", "1", "PMI_SIZE", "4", "SLURM_LOCALID", "7", "SLURM_JOB_ID", "42"));
        assertEquals(7, slurms.localRank());
        assertEquals(0, slurms.localSize(), "unknown");
        assertEquals(
                0,
                resolve(env("PMI_RANK", "1", "PMI_SIZE", "4", "SLURM_JOB_ID", "42"))
                        .localRank());
    }

    @Test
    void mpiWithoutItsOwnJobId_insideASlurmStep_isKeyedByTheStep_inTheBatchScriptByBatch() {
        TaskIdentity step = resolve(env(
                "PMI_RANK",
                "0",
                "PMI_SIZE",
                "2",
                "SLURM_JOB_ID",
                "42",
                "SLURM_STEP_ID",
                "3",
                "SLURM_CLUSTER_NAME",
                "alps"));
        assertEquals("alps.42.mpich-s3", step.key());
        assertEquals("42", step.jobId());
        assertEquals("3", step.stepId());
        TaskIdentity batch = resolve(env("MV2_COMM_WORLD_RANK", "0", "MV2_COMM_WORLD_SIZE", "2", "SLURM_JOB_ID", "42"));
        assertEquals("cluster.42.mvapich2-sbatch", batch.key());
        assertNull(batch.stepId());
        assertEquals("default", batch.source("cluster"));
    }

    @Test
    void flux_outsideSlurm_usesItsJobIdAsTheJob() {
        TaskIdentity id = resolve(
                env("FLUX_TASK_RANK", "2", "FLUX_JOB_SIZE", "4", "FLUX_TASK_LOCAL_ID", "1", "FLUX_JOB_ID", "f2xyz"));
        assertEquals("flux", id.launcher());
        assertEquals("f2xyz", id.jobId());
        assertEquals(1, id.localRank());
        assertEquals(0, id.localSize());
        assertEquals("cluster.f2xyz.flux-f2xyz", id.key());
        assertEquals("host", id.node());
        assertEquals("hostname", id.source("node"));
    }

    @Test
    void openMpiWithoutEssJobId_usesThePmixNamespace() {
        TaskIdentity id = resolve(
                env("OMPI_COMM_WORLD_RANK", "0", "OMPI_COMM_WORLD_SIZE", "2", "PMIX_NAMESPACE", "prterun-n1-77@1"));
        assertEquals("prterun-n1-77@1", id.jobId());
        assertEquals("cluster.prterun-n1-77_1.openmpi-prterun-n1-77_1", id.key());
        TaskIdentity pals =
                resolve(env("PALS_RANKID", "0", "PALS_SIZE", "2", "PMIX_NAMESPACE", "ns", "SLURM_JOB_ID", "5"));
        assertEquals("cluster.5.pals-sbatch", pals.key(), "only Open MPI takes the PMIx namespace");
    }

    @Test
    void mpiWithoutAnyJobId_isRefusedNamingTheMissingVariable() {
        assertTrue(refused(env("PMI_RANK", "0", "PMI_SIZE", "2"))
                .getMessage()
                .contains("no job id this task shares with its peers; run it inside a Slurm job"));
        assertTrue(refused(env("FLUX_TASK_RANK", "0", "FLUX_JOB_SIZE", "2"))
                .getMessage()
                .contains("(FLUX_JOB_ID)"));
    }

    @Test
    void launcherWithoutTaskCount_isRefusedNamingTheVariable() {
        assertTrue(refused(env("TORCHELASTIC_RUN_ID", "r", "RANK", "0"))
                .getMessage()
                .contains("torchrun set RANK but no task count (WORLD_SIZE)"));
    }

    @Test
    void rankNotBelowSize_isRefused_forMpiAndLocalRuns() {
        assertTrue(
                refused(env("OMPI_COMM_WORLD_RANK", "4", "OMPI_COMM_WORLD_SIZE", "4", "OMPI_MCA_ess_base_jobid", "1"))
                        .getMessage()
                        .contains("OMPI_COMM_WORLD_RANK=4 is not below"));
        assertTrue(refused(env("MUSTER_LOCAL_JOB", "9-ab", "MUSTER_RANK", "3", "MUSTER_SIZE", "3"))
                .getMessage()
                .contains("MUSTER_RANK=3 is not below MUSTER_SIZE=3"));
        assertTrue(refused(env("MUSTER_LOCAL_JOB", "9-ab", "MUSTER_RANK", "0", "MUSTER_SIZE", "0"))
                .getMessage()
                .contains("MUSTER_SIZE=0 is not a task count"));
    }

    @Test
    void agreeingMpiLaunchers_areOneLauncher_theFirstInOrder() {
        TaskIdentity id = resolve(env(
                "OMPI_COMM_WORLD_RANK",
                "1",
                "OMPI_COMM_WORLD_SIZE",
                "2",
                "PMI_RANK",
                "1",
                "PMI_SIZE",
                "2",
                "SLURM_JOB_ID",
                "1"));
        assertEquals("openmpi", id.launcher());
    }

    @Test
    void localRun_withoutNode_takesTheHostName_andSaysSo() {
        TaskIdentity id = resolve(env(
                "MUSTER_LOCAL_JOB",
                "9-ab",
                "MUSTER_RANK",
                "0",
                "MUSTER_SIZE",
                "2",
                "MUSTER_LOCAL_RANK",
                "0",
                "MUSTER_LOCAL_SIZE",
                "2"));
        assertEquals("host", id.node());
        assertEquals("hostname", id.source("node"));
        assertEquals(2, id.localSize());
        TaskIdentity named =
                resolve(env("MUSTER_LOCAL_JOB", "9-ab", "MUSTER_RANK", "0", "MUSTER_SIZE", "2", "MUSTER_NODE", "box"));
        assertEquals("box", named.node());
        assertEquals("MUSTER_NODE", named.source("node"));
    }

    @Test
    void batchScriptAndBareProcess_keys() {
        TaskIdentity batch =
                resolve(env("SLURM_JOB_ID", "42", "SLURM_CLUSTER_NAME", "alps", "SLURM_RESTART_COUNT", "2"));
        assertEquals("alps.42.batch", batch.key());
        assertEquals("42", batch.jobId());
        assertEquals(2, batch.restart());
        TaskIdentity bare = resolve(env());
        assertEquals("local.nojob.batch", bare.key());
        assertEquals("local", bare.cluster());
        assertNull(bare.jobId());
        assertFalse(bare.inStep());
    }

    @Test
    void slurmStep_defaults_clusterNodeLocalSize_andTheSizeVariableNamedWhenMissing() {
        TaskIdentity id = resolve(env(
                "SLURM_JOB_ID",
                "42",
                "SLURM_STEPID",
                "1",
                "SLURM_PROCID",
                "0",
                "SLURM_NTASKS",
                "3",
                "SLURM_NODEID",
                "1",
                "SLURM_TASKS_PER_NODE",
                "2,1"));
        assertEquals("cluster.42.1", id.key());
        assertEquals("cluster", id.cluster());
        assertEquals("host", id.node());
        assertEquals(1, id.localSize(), "node 1 of \"2,1\"");
        assertEquals("SLURM_TASKS_PER_NODE", id.source("local size"));
        assertTrue(refused(env("SLURM_JOB_ID", "42", "SLURM_STEP_ID", "1", "SLURM_PROCID", "0"))
                .getMessage()
                .contains("SLURM_NTASKS is not set"));
        TaskIdentity restarted = resolve(env(
                "SLURM_JOB_ID",
                "42",
                "SLURM_STEP_ID",
                "1",
                "SLURM_PROCID",
                "0",
                "SLURM_NTASKS",
                "3",
                "SLURM_RESTART_COUNT",
                "2"));
        assertEquals("cluster.42.1.r2", restarted.key());
        assertEquals(2, restarted.restart());
    }

    @Test
    void processEnvironment_withTheRealHostName() {
        TaskIdentity id = IdentityResolver.resolve(env());
        assertEquals("none", id.launcher());
        assertEquals(IdentityResolver.localHostName(), id.node());
        assertFalse(id.node().isEmpty());
    }

    @Test
    void sanitize_keepsLettersDigitsDotDashUnderscore_andReplacesTheirNeighbours() {
        assertEquals("azAZ09._-", IdentityResolver.sanitize("azAZ09._-"));
        // the characters just outside each kept range: ` { @ [ / :
        assertEquals("______", IdentityResolver.sanitize("`{@[/:"));
        assertEquals("_x", IdentityResolver.sanitize(".x"));
    }

    @Test
    void envHelper_ignoresADanglingName() {
        assertEquals(Map.of("A", "1"), env("A", "1", "B"));
    }
}
