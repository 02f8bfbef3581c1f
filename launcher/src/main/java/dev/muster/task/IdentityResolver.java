package dev.muster.task;

import dev.muster.core.MusterException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Task identity from the environment (DESIGN §3). The innermost launcher wins: torchrun, then the MPI launchers,
 * then {@code muster local}, then Slurm. Values that {@code muster run} itself exports ({@code MUSTER_RANK},
 * {@code RANK}, ...) are read back only where a launcher marker says they are that launcher's own
 * ({@code MUSTER_LOCAL_JOB}, {@code TORCHELASTIC_RUN_ID}).
 */
public final class IdentityResolver {
    private final Map<String, String> env;
    private final Function<String, String> hostname;
    private final Map<String, String> sources = new LinkedHashMap<>();

    private IdentityResolver(Map<String, String> env, Function<String, String> hostname) {
        this.env = env;
        this.hostname = hostname;
    }

    public static TaskIdentity resolve(Map<String, String> env) {
        return resolve(env, LocalHostName.INSTANCE);
    }

    /** A class, not a lambda: the agent resolves in premain, where each lambda costs a cold JVM a millisecond. */
    private static final class LocalHostName implements Function<String, String> {
        static final LocalHostName INSTANCE = new LocalHostName();

        @Override
        public String apply(String ignored) {
            return localHostName();
        }
    }

    public static TaskIdentity resolve(Map<String, String> env, Function<String, String> hostname) {
        return new IdentityResolver(env, hostname).resolve();
    }

    /** An MPI-style launcher: its variable names for rank, size, local rank and its own job id. */
    private record Mpi(String name, String rank, String size, String localRank, String localSize, String jobId) {}

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

    private TaskIdentity resolve() {
        if (has("TORCHELASTIC_RUN_ID")) {
            return withLauncher(
                    "torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "TORCHELASTIC_RUN_ID");
        }
        List<Mpi> present = new ArrayList<>();
        for (Mpi m : MPI) {
            if (has(m.rank)) {
                present.add(m);
            }
        }
        if (present.size() > 1) {
            // Two MPI launchers' variables: fine when they agree (a wrapper that sets both), unclear otherwise.
            Mpi first = present.get(0);
            for (Mpi other : present.subList(1, present.size())) {
                if (!env.get(first.rank).equals(env.get(other.rank))) {
                    throw MusterException.identity("launchers cannot be told apart: " + first.rank + "="
                            + env.get(first.rank) + " but " + other.rank + "=" + env.get(other.rank)
                            + "; unset the variables of the launcher that did not start this task");
                }
            }
        }
        if (!present.isEmpty()) {
            Mpi m = present.get(0);
            return withLauncher(m.name, m.rank, m.size, m.localRank, m.localSize, m.jobId);
        }
        if (has("PMIX_RANK") && has("PMIX_NAMESPACE")) {
            // PMIx direct launch (srun --mpi=pmix): the rank is PMIx's, the size and local rank Slurm's
            return withLauncher(
                    "pmix",
                    "PMIX_RANK",
                    firstPresent("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"),
                    "SLURM_LOCALID",
                    null,
                    "PMIX_NAMESPACE");
        }
        if (has("MUSTER_LOCAL_JOB")) {
            return local();
        }
        if (has("SLURM_JOB_ID")) {
            if (!has("SLURM_STEP_ID") && !has("SLURM_STEPID")) {
                return single("slurm-batch");
            }
            return slurmStep();
        }
        return single("none");
    }

    private TaskIdentity slurmStep() {
        int rank = number("rank", "SLURM_PROCID");
        String sizeVar = firstPresent("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS");
        int size = number("size", sizeVar);
        int localRank = optionalNumber("local rank", "SLURM_LOCALID", 0);
        checkRank(rank, size, "SLURM_PROCID", sizeVar);
        String step = firstValue("step", "SLURM_STEP_ID", "SLURM_STEPID");
        int restart = optionalNumber("restart", "SLURM_RESTART_COUNT", 0);
        String cluster = cluster();
        String job = value("job", "SLURM_JOB_ID");
        StringBuilder key =
                new StringBuilder(cluster).append('.').append(job).append('.').append(step);
        if (restart > 0) {
            key.append(".r").append(restart);
        }
        // Job ids are reused (a controller whose state was wiped, id wrap-around): the port of the srun that
        // launched this step tells two otherwise equal steps apart, and every task of the step shares it.
        String srun = env.get("SLURM_SRUN_COMM_PORT");
        if (srun != null && !srun.isEmpty()) {
            key.append(".p").append(srun);
            sources.put("launch", "SLURM_SRUN_COMM_PORT");
        }
        return new TaskIdentity(
                "slurm",
                rank,
                size,
                localRank,
                slurmLocalSize(),
                node(),
                job,
                step,
                restart,
                cluster,
                sanitize(key.toString()),
                sources);
    }

    private TaskIdentity withLauncher(
            String launcher,
            String rankVar,
            String sizeVar,
            String localRankVar,
            String localSizeVar,
            String jobIdVar) {
        int rank = number("rank", rankVar);
        if (sizeVar == null || !has(sizeVar)) {
            throw MusterException.identity(launcher + " set " + rankVar + " but no task count"
                    + (sizeVar == null ? "" : " (" + sizeVar + ")") + "; run it under a launcher that sets one");
        }
        int size = number("size", sizeVar);
        checkRank(rank, size, rankVar, sizeVar);
        int localRank = localRankVar != null && has(localRankVar)
                ? number("local rank", localRankVar)
                : optionalNumber("local rank", "SLURM_LOCALID", 0);
        int localSize = localSizeVar != null && has(localSizeVar) ? number("local size", localSizeVar) : 0;
        String inner = jobIdVar != null && has(jobIdVar) ? value("launch", jobIdVar) : null;
        if (inner == null && launcher.equals("openmpi") && has("PMIX_NAMESPACE")) {
            inner = value("launch", "PMIX_NAMESPACE");
        }
        String cluster = cluster();
        String job = has("SLURM_JOB_ID") ? value("job", "SLURM_JOB_ID") : inner;
        String step = has("SLURM_STEP_ID") ? env.get("SLURM_STEP_ID") : null;
        if (inner == null && job == null) {
            throw MusterException.identity(launcher + " set " + rankVar + " but no job id this task shares with its"
                    + " peers" + (jobIdVar == null ? "" : " (" + jobIdVar + ")")
                    + "; run it inside a Slurm job or set the launcher's job id");
        }
        if (inner == null) {
            // an MPI launcher without a job id of its own, inside a Slurm step: the step tells runs apart
            inner = "s" + (step == null ? "batch" : step);
        }
        String key = cluster + '.' + (job == null ? "nojob" : job) + '.' + launcher + '-' + inner;
        return new TaskIdentity(
                launcher,
                rank,
                size,
                localRank,
                localSize,
                node(),
                job == null ? inner : job,
                step,
                optionalNumber("restart", "SLURM_RESTART_COUNT", 0),
                cluster,
                sanitize(key),
                sources);
    }

    private TaskIdentity local() {
        String job = value("job", "MUSTER_LOCAL_JOB");
        int rank = number("rank", "MUSTER_RANK");
        int size = number("size", "MUSTER_SIZE");
        checkRank(rank, size, "MUSTER_RANK", "MUSTER_SIZE");
        int localRank = optionalNumber("local rank", "MUSTER_LOCAL_RANK", 0);
        int localSize = optionalNumber("local size", "MUSTER_LOCAL_SIZE", 0);
        String node = has("MUSTER_NODE") ? value("node", "MUSTER_NODE") : hostname.apply("");
        if (!has("MUSTER_NODE")) {
            sources.put("node", "hostname");
        }
        return new TaskIdentity(
                "local",
                rank,
                size,
                localRank,
                localSize,
                node,
                job,
                null,
                0,
                "local",
                sanitize("local." + job),
                sources);
    }

    /** The batch script or a process outside any launcher: one task, no barrier. */
    private TaskIdentity single(String launcher) {
        String job = has("SLURM_JOB_ID") ? value("job", "SLURM_JOB_ID") : null;
        String cluster = has("SLURM_JOB_ID") ? cluster() : "local";
        return new TaskIdentity(
                launcher,
                0,
                1,
                0,
                1,
                node(),
                job,
                null,
                optionalNumber("restart", "SLURM_RESTART_COUNT", 0),
                cluster,
                sanitize(cluster + '.' + (job == null ? "nojob" : job) + ".batch"),
                sources);
    }

    private String cluster() {
        if (has("SLURM_CLUSTER_NAME")) {
            return value("cluster", "SLURM_CLUSTER_NAME");
        }
        sources.put("cluster", "default");
        return "cluster";
    }

    private String node() {
        if (has("SLURMD_NODENAME")) {
            return value("node", "SLURMD_NODENAME");
        }
        sources.put("node", "hostname");
        return hostname.apply("");
    }

    /** Tasks of this step on this node, from {@code SLURM_STEP_TASKS_PER_NODE} ("2(x3),1") and the node index. */
    private int slurmLocalSize() {
        String spec = firstPresent("SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE");
        String nodeId = env.get("SLURM_NODEID");
        if (spec == null || nodeId == null) {
            return 0;
        }
        try {
            int index = Integer.parseInt(nodeId.trim());
            for (int count : SlurmLists.expandCounts(env.get(spec))) {
                if (index-- == 0) {
                    sources.put("local size", spec);
                    return count;
                }
            }
        } catch (NumberFormatException e) {
            // unknown, and only informative
        }
        return 0;
    }

    private static void checkRank(int rank, int size, String rankVar, String sizeVar) {
        if (size < 1) {
            throw MusterException.identity(sizeVar + "=" + size + " is not a task count; it must be at least 1");
        }
        if (rank >= size) {
            throw MusterException.identity(rankVar + "=" + rank + " is not below " + sizeVar + "=" + size
                    + "; the launcher's variables contradict each other");
        }
    }

    private boolean has(String var) {
        String v = env.get(var);
        return v != null && !v.isEmpty();
    }

    private String firstPresent(String... vars) {
        for (String v : vars) {
            if (has(v)) {
                return v;
            }
        }
        return vars[vars.length - 1];
    }

    private String firstValue(String field, String... vars) {
        return value(field, firstPresent(vars));
    }

    private String value(String field, String var) {
        String v = env.get(var);
        if (v == null || v.isEmpty()) {
            throw MusterException.identity(var + " is not set; it is needed for the task's " + field);
        }
        sources.put(field, var);
        return v.trim();
    }

    private int number(String field, String var) {
        String v = value(field, var);
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw MusterException.identity(
                    var + "='" + v + "' is not a non-negative integer; it gives the task's " + field);
        }
    }

    private int optionalNumber(String field, String var, int fallback) {
        if (!has(var)) {
            return fallback;
        }
        return number(field, var);
    }

    /** Key characters safe for one path component on any file system. */
    static String sanitize(String key) {
        StringBuilder b = new StringBuilder(key.length());
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            b.append(
                    (c >= 'a' && c <= 'z')
                                    || (c >= 'A' && c <= 'Z')
                                    || (c >= '0' && c <= '9')
                                    || c == '.'
                                    || c == '-'
                                    || c == '_'
                            ? c
                            : '_');
        }
        String s = b.toString();
        return s.startsWith(".") ? "_" + s.substring(1) : s;
    }

    static String localHostName() {
        try {
            return new String(
                            java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/sys/kernel/hostname")),
                            java.nio.charset.StandardCharsets.US_ASCII)
                    .trim();
        } catch (java.io.IOException e) {
            String h = System.getenv("HOSTNAME");
            return h == null ? "localhost" : h;
        }
    }

    /** For tests: an environment map with only the given pairs. */
    public static Map<String, String> env(String... pairs) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }
}
