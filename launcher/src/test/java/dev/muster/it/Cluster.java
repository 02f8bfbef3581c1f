package dev.muster.it;

import dev.muster.testing.Leftovers;
import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import dev.muster.testing.TestFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the integration tests share: the local Slurm (skip or fail when it is down), the shipped jar, a private
 * 0700 work and sync directory per test, commands run with a hard timeout, and the clean-up after each test
 * (its Slurm jobs cancelled, its processes gone, its directories removed).
 *
 * <p>Register it per test class with {@code @RegisterExtension final Cluster cluster = new Cluster();} (or
 * {@code Cluster.withoutSlurm()} for tests that run the jar directly).
 */
public final class Cluster implements BeforeEachCallback, AfterEachCallback {
    /** The JDKs muster must run on: Java 22+ does a true execve, Java 17 runs the program as a child. */
    public enum Jdk {
        J25("MUSTER_IT_JAVA25", "/usr/lib/jvm/temurin-25-jdk-amd64"),
        J17("MUSTER_IT_JAVA17", "/usr/lib/jvm/java-17-openjdk-amd64");

        private final String variable;
        private final String fallback;

        Jdk(String variable, String fallback) {
            this.variable = variable;
            this.fallback = fallback;
        }

        /** The java binary; the test is skipped (or fails under MUSTER_REQUIRE_SLURM=1) when it is missing. */
        public String java() {
            String home = System.getenv().getOrDefault(variable, fallback);
            Path java = Path.of(home, "bin", "java");
            if (!Files.isExecutable(java)) {
                Slurm.unavailable("no " + name() + " at " + home + " (set " + variable + ")");
            }
            return java.toString();
        }
    }

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    // JVM flags that scripts/muster passes too: a fast short-lived JVM that leaves the program its own limits.
    private static final List<String> FAST_JVM =
            List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:-MaxFDLimit");

    private final boolean slurm;
    private Path dir;
    private Path sync;
    private String jobName;
    private final List<Path> extraDirs = new ArrayList<>();

    public Cluster() {
        this(true);
    }

    private Cluster(boolean slurm) {
        this.slurm = slurm;
    }

    public static Cluster withoutSlurm() {
        return new Cluster(false);
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (slurm) {
            Slurm.requireSlurm();
        }
        String test = context.getRequiredTestMethod().getName();
        dir = TestFiles.privateDir(Files.createTempDirectory("muster-it-"));
        // on the rig the sync root is on the shared directory, which each node sees through its own caching mount
        sync = slurm && Slurm.sharedRoot().isPresent()
                ? sharedDir("muster-it-sync-")
                : TestFiles.privateDir(dir.resolve("sync"));
        jobName = "muster-it-" + test.substring(0, Math.min(24, test.length())) + "-"
                + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        List<String> problems = new ArrayList<>();
        if (slurm) {
            run(Duration.ofSeconds(20), Map.of(), List.of("scancel", "--name", jobName));
            awaitNoJobs(problems);
        }
        List<String> marks = new ArrayList<>();
        marks.add(dir.toString());
        extraDirs.forEach(p -> marks.add(p.toString()));
        problems.addAll(Leftovers.kill(marks));
        problems.addAll(Leftovers.awaitCleanups(marks));
        for (Path p : extraDirs) {
            TestFiles.deleteTree(p);
        }
        TestFiles.deleteTree(dir);
        problems.addAll(Leftovers.helpers(marks));
        if (!problems.isEmpty() && context.getExecutionException().isEmpty()) {
            Assertions.fail(
                    "left behind by " + context.getRequiredTestMethod().getName() + ": " + String.join("; ", problems));
        }
    }

    // ---------------------------------------------------------------------------------------------------- paths

    /** The shipped jar (failsafe sets {@code muster.jar}). */
    public static Path jar() {
        String p = System.getProperty("muster.jar");
        if (p == null) {
            p = root().resolve("launcher/target/muster.jar").toString();
        }
        Path jar = Path.of(p).toAbsolutePath().normalize();
        Assertions.assertTrue(Files.isRegularFile(jar), "muster.jar not built at " + jar + " (mvn package first)");
        return jar;
    }

    /** The repository root (failsafe sets {@code muster.root}). */
    public static Path root() {
        String p = System.getProperty("muster.root");
        if (p != null) {
            return Path.of(p).toAbsolutePath().normalize();
        }
        Path here = Path.of("").toAbsolutePath();
        return Files.isDirectory(here.resolve("launcher")) ? here : here.getParent();
    }

    /** This test's private work directory (0700, removed afterwards); every node sees it. */
    public Path dir() {
        return dir;
    }

    /**
     * This test's private sync root (0700), for {@code --sync-dir}: under {@code LOCAL_SLURM_SHARED} on the rig of
     * scripts/local-slurm (each node's own caching mount of it, docs/test-cluster.md), else in {@link #dir()}.
     */
    public Path sync() {
        return sync;
    }

    /** The job name every Slurm job of this test carries, so that the clean-up can cancel them. */
    public String jobName() {
        return jobName;
    }

    /** A directory outside {@link #dir()} that the clean-up removes too (e.g. one that {@code nobody} can reach). */
    public Path extraDir(String prefix, String mode) throws IOException {
        Path p = Files.createTempDirectory(prefix);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        extraDirs.add(p);
        return p;
    }

    /**
     * A private (0700) directory for what this test shares between nodes (a sync root, a rendezvous cache): under
     * {@link Slurm#sharedRoot()} on the rig, where each node sees it through its own caching mount, else in
     * {@link #dir()}. The clean-up removes it.
     */
    public Path sharedDir(String prefix) throws IOException {
        Optional<Path> shared = Slurm.sharedRoot();
        return shared.isPresent()
                ? extraDir(shared.get(), prefix, "rwx------")
                : TestFiles.privateDir(Files.createTempDirectory(dir, prefix));
    }

    /** {@link #extraDir(String, String)} under {@code parent} (created if missing), e.g. the rig's shared directory. */
    public Path extraDir(Path parent, String prefix, String mode) throws IOException {
        Files.createDirectories(parent);
        Path p = Files.createTempDirectory(parent, prefix);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        extraDirs.add(p);
        return p;
    }

    // ------------------------------------------------------------------------------------------- the muster cmd

    /**
     * How a task starts muster: {@code scripts/muster} once the repository has it (with {@code MUSTER_JAVA} from
     * {@link #env}), else the jar under {@code java} with the flags scripts/muster passes.
     */
    public static List<String> muster(Jdk jdk) {
        Path script = root().resolve("scripts/muster");
        if (Files.isExecutable(script)) {
            return List.of(script.toString());
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(jdk.java());
        cmd.addAll(FAST_JVM);
        cmd.add("-jar");
        cmd.add(jar().toString());
        return cmd;
    }

    /** {@link #muster} as words for a shell script. */
    public static String musterShell(Jdk jdk) {
        return muster(jdk).stream().map(Cluster::quote).collect(Collectors.joining(" "));
    }

    /**
     * The identity of one task of a step started by hand, without Slurm or {@code muster local}: the variables
     * {@code muster local} sets, so that a test can start, hold back or kill each task on its own.
     */
    public static Map<String, String> localTask(String job, int rank, int size) {
        return Map.of(
                "MUSTER_LOCAL_JOB", job, "MUSTER_RANK", Integer.toString(rank), "MUSTER_SIZE", Integer.toString(size));
    }

    /** The environment every command of a test gets on top of this JVM's: the JDK choice for scripts/muster. */
    public static Map<String, String> env(Jdk jdk) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("MUSTER_JAVA", jdk.java());
        env.put("MUSTER_JAR", jar().toString());
        if (!rig()) {
            // The flat test cluster: every node is this one host with one hostname, so Open MPI's shared-memory
            // transport gives the first task of each node the same segment file and the tasks crash. The rig
            // (LOCAL_SLURM_RIG=1, CI's) gives each node its own hostname and needs no setting, as a real cluster.
            env.put("OMPI_MCA_btl", "self,tcp");
        }
        return env;
    }

    /** Whether the Slurm cluster at SLURM_CONF is the rig of scripts/local-slurm (nodes with their own namespaces). */
    public static boolean rig() {
        return Slurm.rig();
    }

    public static String quote(String s) {
        if (s.matches("[A-Za-z0-9_./=:,+-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Writes an executable shell script into this test's directory. */
    public Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + (body.endsWith("\n") ? "" : "\n"));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    // ---------------------------------------------------------------------------------------------- processes

    /** Runs {@code cmd} with {@code env} added to this JVM's environment; kills it (and its children) at the timeout. */
    public Run.Result run(Duration timeout, Map<String, String> env, List<String> cmd) {
        return Run.exec(timeout, env, false, dir, cmd);
    }

    /** Runs {@code cmd} with exactly {@code env} as its environment. */
    public Run.Result runClean(Duration timeout, Map<String, String> env, Path cwd, List<String> cmd) {
        return Run.exec(timeout, env, true, cwd, cmd);
    }

    /** {@code srun --job-name <this test's> args...}. */
    public Run.Result srun(Duration timeout, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("srun", "--job-name", jobName));
        cmd.addAll(Arrays.asList(args));
        return run(timeout, env, cmd);
    }

    /** Starts {@code cmd} in the background (output into files in this test's directory). */
    public Process start(Map<String, String> env, List<String> cmd, String outputName) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().putAll(env);
        pb.redirectOutput(dir.resolve(outputName + ".out").toFile());
        pb.redirectError(dir.resolve(outputName + ".err").toFile());
        try {
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------- Slurm

    /** {@code scontrol show job <id>} as a field map (JobState, ExitCode, Restarts, ...); empty once forgotten. */
    public Map<String, String> job(String id) {
        Run.Result r = run(Duration.ofSeconds(15), Map.of(), List.of("scontrol", "-o", "show", "job", id));
        Map<String, String> fields = new HashMap<>();
        if (r.exit() != 0) {
            return fields;
        }
        for (String word : r.out().trim().split("\\s+")) {
            int eq = word.indexOf('=');
            if (eq > 0) {
                fields.put(word.substring(0, eq), word.substring(eq + 1));
            }
        }
        return fields;
    }

    /** Job ids that squeue still lists under this test's job name. */
    public List<String> liveJobs() {
        Run.Result r = run(Duration.ofSeconds(15), Map.of(), List.of("squeue", "-h", "--name", jobName, "-o", "%i"));
        return Arrays.stream(r.out().split("\\s+")).filter(s -> !s.isEmpty()).collect(Collectors.toList());
    }

    private void awaitNoJobs(List<String> problems) {
        try {
            Awaitility.await()
                    .atMost(Duration.ofSeconds(15))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> liveJobs().isEmpty());
        } catch (ConditionTimeoutException e) {
            problems.add("Slurm jobs " + liveJobs() + " still listed 15 s after scancel");
        }
    }
}
