package dev.muster.task;

import dev.muster.core.MusterException;
import java.util.ArrayList;
import java.util.List;

/** The MPI-style launchers identity knows, by their variables, and the rule when two of them set theirs. */
final class MpiLaunchers {
    private MpiLaunchers() {}

    /** An MPI-style launcher: its variable names for rank, size, local rank and its own job id. */
    record Mpi(String name, String rank, String size, String localRank, String localSize, String jobId) {}

    private static final List<Mpi> MPI = List.of(
            new Mpi(
                    "openmpi",
                    "OMPI_COMM_WORLD_RANK",
                    "OMPI_COMM_WORLD_SIZE",
                    "OMPI_COMM_WORLD_LOCAL_RANK",
                    "OMPI_COMM_WORLD_LOCAL_SIZE",
                    "OMPI_MCA_ess_base_jobid"),
            new Mpi("mpich", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS", null),
            new Mpi(
                    "mvapich2",
                    "MV2_COMM_WORLD_RANK",
                    "MV2_COMM_WORLD_SIZE",
                    "MV2_COMM_WORLD_LOCAL_RANK",
                    "MV2_COMM_WORLD_LOCAL_SIZE",
                    null),
            new Mpi("pals", "PALS_RANKID", "PALS_SIZE", "PALS_LOCAL_RANKID", "PALS_LOCAL_SIZE", null),
            new Mpi("flux", "FLUX_TASK_RANK", "FLUX_JOB_SIZE", "FLUX_TASK_LOCAL_ID", null, "FLUX_JOB_ID"));

    /**
     * The MPI launcher whose rank variable is set, the first in {@link #MPI}'s order when several are, or null.
     * Two launchers' variables are fine when they agree (a wrapper that sets both), unclear otherwise.
     */
    static Mpi present(IdentityVars env) {
        List<Mpi> present = new ArrayList<>();
        for (Mpi m : MPI) {
            if (env.has(m.rank)) {
                present.add(m);
            }
        }
        if (present.size() > 1) {
            Mpi first = present.get(0);
            for (Mpi other : present.subList(1, present.size())) {
                if (!env.get(first.rank).equals(env.get(other.rank))) {
                    throw MusterException.identity("launchers cannot be told apart: " + first.rank + "="
                            + env.get(first.rank) + " but " + other.rank + "=" + env.get(other.rank)
                            + "; unset the variables of the launcher that did not start this task");
                }
            }
        }
        return present.isEmpty() ? null : present.get(0);
    }
}
