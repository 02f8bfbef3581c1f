package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Fields;
import dev.muster.testing.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code muster hook} under a real runc and a real srun (docs/oci-hook.md): each task of
 * {@code srun -N 4 --ntasks-per-node=2} runs {@code runc run} on its own busybox container, whose createContainer
 * hook is muster's and whose Slurm identity is only in the container's {@code process.env}.
 */
class OciHookIT {
    private static final Jdk JDK = Jdk.J25;
    private static final List<Integer> ALL = List.of(0, 1, 2, 3, 4, 5, 6, 7);

    @RegisterExtension
    final Cluster cluster = new Cluster();

    private OciBundles bundles;

    private OciBundles bundles(String timeout) throws Exception {
        bundles = OciBundles.in(cluster.dir());
        Map<String, Object> hook = OciBundles.exampleRuncHook();
        hook.put("path", Cluster.root().resolve("scripts/muster").toString());
        hook.put(
                "args",
                List.of(
                        "muster",
                        "hook",
                        "--timeout",
                        timeout,
                        "--trace",
                        bundles.out.resolve("trace").toString()));
        hook.put("env", OciBundles.musterEnv(JDK, "MUSTER_SYNC_DIR=" + cluster.sync()));
        bundles.writeHooks(hook);
        return bundles;
    }

    private Run.Result srun(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(args));
        cmd.add(bundles.task.toString());
        return cluster.srun(Duration.ofSeconds(60), env, cmd.toArray(new String[0]));
    }

    @Test
    @Timeout(90)
    void lateTask_noContainerStartsBeforeTheLastWasCreated() throws Exception {
        bundles("30");
        Run.Result r = srun(Map.of(OciBundles.LATE, "5"), "-N", "4", "--ntasks-per-node=2");
        String all = r.describe() + bundles.describe();
        assertEquals(0, r.exit(), all);
        assertEquals(Collections.nCopies(8, 0), new ArrayList<>(bundles.exits().values()), all);
        Map<Integer, Long> created = bundles.created();
        Map<Integer, Long> starts = bundles.starts();
        assertEquals(ALL, new ArrayList<>(created.keySet()), all);
        assertEquals(ALL, new ArrayList<>(starts.keySet()), all);
        long lastCreated = Collections.max(created.values());
        long firstStart = Collections.min(starts.values());
        assertTrue(
                firstStart > lastCreated,
                "a container started " + (lastCreated - firstStart) + " us before the last container was created\n"
                        + all);
        List<Map<String, String>> trace = Fields.records(Run.read(bundles.out.resolve("trace")), "rank=");
        assertEquals(8, trace.size(), all);
        // The TCP release works from inside the hook: rank 0 listened and released connected tasks over TCP. Not
        // every task: under load a task whose connection races rank 0's decision is released by the outcome file,
        // the barrier's own fallback (seen once in about ten runs here, 6 of 8 tasks "via=file").
        assertEquals(
                "tcp",
                trace.stream()
                        .filter(t -> "0".equals(t.get("rank")))
                        .findFirst()
                        .orElseThrow()
                        .get("via"),
                all);
        assertTrue(
                trace.stream().anyMatch(t -> !"0".equals(t.get("rank")) && "tcp".equals(t.get("via"))),
                "a task released over TCP\n" + all);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> stepDirs().isEmpty());
    }

    @Test
    @Timeout(90)
    void missingTask_everyOtherContainerFailsWithinTheHookTimeout_namingIt() throws Exception {
        bundles("4");
        Run.Result r = srun(Map.of(OciBundles.MISSING, "6"), "-N", "4", "--ntasks-per-node=2");
        String all = r.describe() + bundles.describe();
        Map<Integer, Integer> exits = bundles.exits();
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 7), new ArrayList<>(exits.keySet()), all);
        for (int rank : exits.keySet()) {
            assertTrue(exits.get(rank) != 0, "rank " + rank + "'s container must not start\n" + all);
            String err = bundles.runcErr(rank);
            assertTrue(err.contains("exit status 75") && err.contains("missing rank 6"), all);
        }
        assertTrue(bundles.starts().isEmpty(), all);
        // every hook waits 4 s from its own arrival; the step (8 cold JVMs on a shared machine) ends well before 30
        assertTrue(r.took().toSeconds() < 30, all);
    }

    @Test
    @Timeout(90)
    void foreignFilesInTheSyncDirectory_changeNothing() throws Exception {
        bundles("30");
        Files.writeString(cluster.sync().resolve("junk"), "not a step\n");
        Files.createDirectory(cluster.sync().resolve("local.1.0.foreign"));
        Process srun = cluster.start(
                Map.of(OciBundles.HOLD, "7"),
                List.of(
                        "srun",
                        "--job-name",
                        cluster.jobName(),
                        "-N",
                        "4",
                        "--ntasks-per-node=2",
                        bundles.task.toString()),
                "srun");
        // ranks 0-6 have arrived (arrival/<rank / 3>/<rank>); rank 7 is held before its runc run
        Awaitility.await()
                .atMost(Duration.ofSeconds(40))
                .until(() -> stepDirs().size() == 1
                        && IntStream.range(0, 7)
                                .allMatch(i -> Files.exists(stepDirs().get(0).resolve("arrival/" + i / 3 + "/" + i))));
        Path step = stepDirs().get(0);
        for (Path arrival : List.of(step.resolve("arrival"), step.resolve("arrival/2"))) {
            for (String name : List.of("bogus", "99", "007", "07", "7.tmp", "+7", "-7", " 7", "7 ", "8")) {
                Files.writeString(arrival.resolve(name), "host=elsewhere pid=1\n");
            }
            Files.createDirectory(arrival.resolve("7x"));
        }
        Awaitility.await()
                .during(Duration.ofMillis(800))
                .atMost(Duration.ofSeconds(2))
                .until(() -> Run.read(step.resolve("outcome")).isEmpty()
                        && bundles.starts().isEmpty());
        Files.writeString(cluster.dir().resolve("go"), "");
        Awaitility.await().atMost(Duration.ofSeconds(40)).until(() -> !srun.isAlive());
        String all = bundles.describe();
        assertEquals(Collections.nCopies(8, 0), new ArrayList<>(bundles.exits().values()), all);
        assertTrue(
                Collections.min(bundles.starts().values()) > bundles.created().get(7), all);
        assertTrue(Files.exists(cluster.sync().resolve("junk")), "a foreign file is left alone");
    }

    @Test
    @Timeout(120)
    void requeuedStep_neverReleasesFalsely() throws Exception {
        bundles("3");
        Path d = cluster.dir();
        // First run: rank 7 never starts its container; ranks 0-6 leave their arrivals and a timeout behind.
        // The requeued run (same job id, same step id 0): rank 3 never starts. Had the two runs shared a step
        // directory, the first run's arrivals and the second's would make all 8 and release, or the old outcome
        // would fail the step naming rank 7.
        Path job = cluster.script(
                "job.sh",
                ""
                        + "c=${SLURM_RESTART_COUNT:-0}\n"
                        + "if [ $c = 0 ]; then m=7; else m=3; fi\n"
                        + "mkdir -p " + d + "/run$c\n"
                        + OciBundles.MISSING + "=$m srun " + bundles.task + "\n"
                        + "mv " + bundles.out + "/rc.* " + bundles.out + "/runc.* " + d + "/run$c/ 2>/dev/null\n"
                        + "echo \"run$c done\" >> " + d + "/job.log\n");
        Run.Result submit = cluster.run(
                Duration.ofSeconds(15),
                Cluster.env(JDK),
                List.of(
                        "sbatch",
                        "--parsable",
                        "--requeue",
                        "--job-name",
                        cluster.jobName(),
                        "-N",
                        "4",
                        "--ntasks-per-node=2",
                        "-o",
                        d.resolve("job.%j.out").toString(),
                        job.toString()));
        assertEquals(0, submit.exit(), submit.describe());
        String id = submit.out().trim().split(";")[0];
        Awaitility.await()
                .atMost(Duration.ofSeconds(40))
                .until(() -> "COMPLETED".equals(cluster.job(id).get("JobState")));
        assertTrue(Run.read(d.resolve("job.log")).contains("run0 done"), Run.read(d.resolve("job.log")));
        assertEquals(1, stepDirs().size(), "the first run left its step directory");

        assertEquals(
                0,
                cluster.run(Duration.ofSeconds(15), Map.of(), List.of("scontrol", "requeue", id))
                        .exit());
        // held for 120 s after a requeue; start in 2 s (not at once: see BarrierFaultsIT's requeue test)
        assertEquals(
                0,
                cluster.run(
                                Duration.ofSeconds(15),
                                Map.of(),
                                List.of("scontrol", "update", "JobId=" + id, "StartTime=now+2"))
                        .exit());
        Awaitility.await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> Run.read(d.resolve("job.log")).contains("run1 done"));

        StringBuilder all = new StringBuilder(Run.read(d.resolve("job.log")));
        for (int rank : ALL) {
            if (rank == 3) {
                continue;
            }
            String err = Run.read(d.resolve("run1/runc." + rank + ".err"));
            all.append("rank ").append(rank).append(": ").append(err);
            assertTrue(!"0".equals(Run.read(d.resolve("run1/rc." + rank)).trim()), all.toString());
            assertTrue(
                    err.contains("exit status 75") && err.contains("missing rank 3") && !err.contains("rank 7"),
                    all.toString());
        }
        assertTrue(bundles.starts().isEmpty(), "no container of either run started\n" + all);
        assertEquals(2, stepDirs().size(), "each run has a step directory of its own");
    }

    /**
     * The seed's hooks.d configuration ({@code HOOK_BASE_DIR}, {@code PASSWD_FILE}, no arguments) with muster's
     * wrapper as the path, as root, for a container whose {@code process.user} is nobody: the containers start,
     * and every file and directory muster created belongs to nobody (the failed run leaves them all in place).
     */
    @Test
    @Timeout(120)
    void seedConfiguration_asRoot_everyFileMusterCreatesBelongsToTheContainerUser() throws Exception {
        bundles = OciBundles.in(cluster.dir());
        Path base = cluster.extraDir("muster-it-hook-home-", "rwxr-xr-x");
        Path home = base.resolve("nobody");
        Files.createDirectory(home);
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        Files.setOwner(
                home, home.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        Path passwd = base.resolve("passwd");
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
        Path jar = readableJar(base);

        Map<String, Object> hook = OciBundles.exampleHooksD();
        assertFalse(hook.containsKey("args"), "the seed's hook takes no arguments");
        hook.put("path", Cluster.root().resolve("scripts/muster-oci-hook").toString());
        List<String> env = new ArrayList<>();
        for (Object e : (List<?>) hook.get("env")) {
            String s = (String) e;
            env.add(
                    s.startsWith("HOOK_BASE_DIR=")
                            ? "HOOK_BASE_DIR=" + base
                            : s.startsWith("PASSWD_FILE=") ? "PASSWD_FILE=" + passwd : s);
        }
        env.add("MUSTER_JAVA=" + JDK.java());
        env.add("MUSTER_JAR=" + jar);
        hook.put("env", env);
        bundles.writeHooks(hook);

        Map<String, String> asNobody = Map.of(OciBundles.USER, "65534");
        Run.Result ok = srun(asNobody, "-N", "2", "-n", "2");
        String all = ok.describe() + bundles.describe();
        assertEquals(Map.of(0, 0, 1, 0), bundles.exits(), all);
        assertEquals(List.of(0, 1), new ArrayList<>(bundles.starts().keySet()), all);
        Path root = home.resolve(".oci-hooks/slurm-global-sync");
        assertTrue(Files.isDirectory(root), all);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> list(root).isEmpty());
        assertOwnedByNobody(home.resolve(".oci-hooks"), all);

        // a run that times out leaves its step files: all of them nobody's (deadline through the hook's env)
        env.replaceAll(s -> s.startsWith("MUSTER_TIMEOUT=") ? "MUSTER_TIMEOUT=3" : s);
        bundles.writeHooks(hook);
        Run.Result failed = srun(Map.of(OciBundles.USER, "65534", OciBundles.MISSING, "1"), "-N", "2", "-n", "2");
        all = failed.describe() + bundles.describe();
        assertEquals(75, Integer.parseInt(bundles.runcErr(0).replaceAll("(?s).*exit status (\\d+).*", "$1")), all);
        assertEquals(1, list(root).size(), all);
        assertTrue(Files.exists(list(root).get(0).resolve("arrival/0/0")), all);
        assertOwnedByNobody(home.resolve(".oci-hooks"), all);
    }

    /**
     * The runtime kills one task's hook (its hook {@code timeout}, 2 s, passes while rank 7 is missing): that hook
     * runs as the container user through setpriv, and its second stage sees the first one die and aborts the step,
     * so every other container fails now, naming rank 3, instead of at muster's 60 s deadline.
     */
    @Test
    @Timeout(90)
    void hookKilledByTheRuntime_abortsTheStep_everyOtherContainerFailsNamingIt() throws Exception {
        Path base = cluster.extraDir("muster-it-hook-kill-", "rwxr-xr-x");
        Path sync = base.resolve("sync");
        Files.createDirectory(sync);
        Files.setPosixFilePermissions(sync, PosixFilePermissions.fromString("rwx------"));
        Files.setOwner(
                sync, sync.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        Path jar = readableJar(base);
        bundles = OciBundles.in(cluster.dir());
        bundles.hooks(
                Cluster.root().resolve("scripts/muster").toString(),
                List.of("muster", "hook", "--timeout", "60"),
                List.of("MUSTER_JAVA=" + JDK.java(), "MUSTER_JAR=" + jar, "MUSTER_SYNC_DIR=" + sync));

        Run.Result r = srun(
                Map.of(OciBundles.USER, "65534", OciBundles.MISSING, "7", OciBundles.KILL, "3"),
                "-N",
                "4",
                "--ntasks-per-node=2");
        String all = r.describe() + bundles.describe();
        assertEquals(
                List.of(0, 1, 2, 3, 4, 5, 6), new ArrayList<>(bundles.exits().keySet()), all);
        assertTrue(bundles.runcErr(3).contains("ran past specified timeout"), all);
        for (int rank : List.of(0, 1, 2, 4, 5, 6)) {
            String err = bundles.runcErr(rank);
            assertTrue(
                    err.contains("exit status 76") && err.contains("rank 3 ") && err.contains("its hook was killed"),
                    all);
        }
        assertTrue(bundles.starts().isEmpty(), all);
        assertTrue(r.took().toSeconds() < 40, "the others failed at once, not at their deadline\n" + all);
    }

    @Test
    @Timeout(90)
    void syncDirectoryTheContainerUserDoesNotOwn_isRefused77() throws Exception {
        Path base = cluster.extraDir("muster-it-hook-foreign-", "rwxr-xr-x");
        // root's own: the hook (root) would accept it, the container's user must not
        Path root = base.resolve("roots");
        Files.createDirectory(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        Path jar = readableJar(base);
        bundles = OciBundles.in(cluster.dir());
        bundles.hooks(
                Cluster.root().resolve("scripts/muster").toString(),
                List.of("muster", "hook", "--timeout", "20"),
                List.of("MUSTER_JAVA=" + JDK.java(), "MUSTER_JAR=" + jar, "MUSTER_SYNC_DIR=" + root));

        Run.Result r = srun(Map.of(OciBundles.USER, "65534"), "-N", "2", "-n", "2");
        String all = r.describe() + bundles.describe();
        for (int rank : List.of(0, 1)) {
            String err = bundles.runcErr(rank);
            assertTrue(err.contains("exit status 77") && err.contains("owned by uid 0"), all);
        }
        assertTrue(bundles.starts().isEmpty(), all);
        assertTrue(list(root).isEmpty(), "nothing created in a directory that is not the user's\n" + all);
    }

    /** A copy of the jar in {@code base}, where nobody can read it (the build tree may be private to root). */
    private static Path readableJar(Path base) throws Exception {
        Path jar = base.resolve("muster.jar");
        Files.copy(Cluster.jar(), jar, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        return jar;
    }

    private static void assertOwnedByNobody(Path top, String context) throws Exception {
        try (Stream<Path> walk = Files.walk(top)) {
            List<String> foreign = walk.filter(p -> {
                        try {
                            return !Integer.valueOf(65534)
                                    .equals(Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS));
                        } catch (java.io.IOException e) {
                            return true;
                        }
                    })
                    .map(Path::toString)
                    .collect(Collectors.toList());
            assertEquals(List.of(), foreign, context);
        }
    }

    private List<Path> stepDirs() {
        return list(cluster.sync()).stream()
                .filter(p -> !p.getFileName().toString().contains("foreign") && Files.isDirectory(p))
                .collect(Collectors.toList());
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().collect(Collectors.toList());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
