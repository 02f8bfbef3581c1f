package dev.muster.task;

import dev.muster.core.MusterException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Task identity from the environment (DESIGN §3). The innermost launcher wins: torchrun, then the MPI launchers,
 * then {@code muster local}, then Slurm. Values that {@code muster run} itself exports ({@code MUSTER_RANK},
 * {@code RANK}, ...) are read back only where a launcher marker says they are that launcher's own
 * ({@code MUSTER_LOCAL_JOB}, {@code TORCHELASTIC_RUN_ID}).
 */
public final class IdentityResolver {
    private final IdentityVars env;
    private final Function<String, String> hostname;

    private IdentityResolver(Map<String, String> env, Function<String, String> hostname) {
        this.env = new IdentityVars(env);
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

    private TaskIdentity resolve() {
        if (env.has("TORCHELASTIC_RUN_ID")) {
            return withLauncher(
                    "torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "TORCHELASTIC_RUN_ID");
        }
        MpiLaunchers.Mpi m = MpiLaunchers.present(env);
        if (m != null) {
            return withLauncher(m.name(), m.rank(), m.size(), m.localRank(), m.localSize(), m.jobId());
        }
        if (env.has("PMIX_RANK") && env.has("PMIX_NAMESPACE")) {
            // PMIx direct launch (srun --mpi=pmix): the rank is PMIx's, the size and local rank Slurm's
            return withLauncher(
                    "pmix",
                    "PMIX_RANK",
                    env.firstPresent("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"),
                    "SLURM_LOCALID",
                    null,
                    "PMIX_NAMESPACE");
        }
        if (env.has("MUSTER_LOCAL_JOB")) {
            return local();
        }
        if (env.has("SLURM_JOB_ID")) {
            if (!env.has("SLURM_STEP_ID") && !env.has("SLURM_STEPID")) {
                return single("slurm-batch");
            }
            return slurmStep();
        }
        return single("none");
    }

    private TaskIdentity slurmStep() {
        int rank = env.number("rank", "SLURM_PROCID");
        String sizeVar = env.firstPresent("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS");
        int size = env.number("size", sizeVar);
        int localRank = env.optionalNumber("local rank", "SLURM_LOCALID", 0);
        checkRank(rank, size, "SLURM_PROCID", sizeVar);
        String step = env.firstValue("step", "SLURM_STEP_ID", "SLURM_STEPID");
        int restart = env.optionalNumber("restart", "SLURM_RESTART_COUNT", 0);
        String cluster = cluster();
        String job = env.value("job", "SLURM_JOB_ID");
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
            env.source("launch", "SLURM_SRUN_COMM_PORT");
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
                env.sources());
    }

    private TaskIdentity withLauncher(
            String launcher,
            String rankVar,
            String sizeVar,
            String localRankVar,
            String localSizeVar,
            String jobIdVar) {
        int rank = env.number("rank", rankVar);
        if (sizeVar == null || !env.has(sizeVar)) {
            throw MusterException.identity(launcher + " set " + rankVar + " but no task count"
                    + (sizeVar == null ? "" : " (" + sizeVar + ")") + "; run it under a launcher that sets one");
        }
        int size = env.number("size", sizeVar);
        checkRank(rank, size, rankVar, sizeVar);
        int localRank = localRankVar != null && env.has(localRankVar)
                ? env.number("local rank", localRankVar)
                : env.optionalNumber("local rank", "SLURM_LOCALID", 0);
        int localSize = localSizeVar != null && env.has(localSizeVar) ? env.number("local size", localSizeVar) : 0;
        String inner = jobIdVar != null && env.has(jobIdVar) ? env.value("launch", jobIdVar) : null;
        if (inner == null && launcher.equals("openmpi") && env.has("PMIX_NAMESPACE")) {
            inner = env.value("launch", "PMIX_NAMESPACE");
        }
        String cluster = cluster();
        String job = env.has("SLURM_JOB_ID") ? env.value("job", "SLURM_JOB_ID") : inner;
        String step = env.has("SLURM_STEP_ID") ? env.get("SLURM_STEP_ID") : null;
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
                env.optionalNumber("restart", "SLURM_RESTART_COUNT", 0),
                cluster,
                sanitize(key),
                env.sources());
    }

    private TaskIdentity local() {
        String job = env.value("job", "MUSTER_LOCAL_JOB");
        int rank = env.number("rank", "MUSTER_RANK");
        int size = env.number("size", "MUSTER_SIZE");
        checkRank(rank, size, "MUSTER_RANK", "MUSTER_SIZE");
        int localRank = env.optionalNumber("local rank", "MUSTER_LOCAL_RANK", 0);
        int localSize = env.optionalNumber("local size", "MUSTER_LOCAL_SIZE", 0);
        String node = env.has("MUSTER_NODE") ? env.value("node", "MUSTER_NODE") : hostname.apply("");
        if (!env.has("MUSTER_NODE")) {
            env.source("node", "hostname");
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
                env.sources());
    }

    /** The batch script or a process outside any launcher: one task, no barrier. */
    private TaskIdentity single(String launcher) {
        String job = env.has("SLURM_JOB_ID") ? env.value("job", "SLURM_JOB_ID") : null;
        String cluster = env.has("SLURM_JOB_ID") ? cluster() : "local";
        return new TaskIdentity(
                launcher,
                0,
                1,
                0,
                1,
                node(),
                job,
                null,
                env.optionalNumber("restart", "SLURM_RESTART_COUNT", 0),
                cluster,
                sanitize(cluster + '.' + (job == null ? "nojob" : job) + ".batch"),
                env.sources());
    }

    private String cluster() {
        if (env.has("SLURM_CLUSTER_NAME")) {
            return env.value("cluster", "SLURM_CLUSTER_NAME");
        }
        env.source("cluster", "default");
        return "cluster";
    }

    private String node() {
        if (env.has("SLURMD_NODENAME")) {
            return env.value("node", "SLURMD_NODENAME");
        }
        env.source("node", "hostname");
        return hostname.apply("");
    }

    /** Tasks of this step on this node, from {@code SLURM_STEP_TASKS_PER_NODE} ("2(x3),1") and the node index. */
    private int slurmLocalSize() {
        String spec = env.firstPresent("SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE");
        String nodeId = env.get("SLURM_NODEID");
        if (spec == null || nodeId == null) {
            return 0;
        }
        try {
            int index = Integer.parseInt(nodeId.trim());
            for (int count : SlurmLists.expandCounts(env.get(spec))) {
                if (index-- == 0) {
                    env.source("local size", spec);
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
