package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Fields;
import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A step barrier where something goes wrong, under a real srun: every failure is bounded, and every task says
 * which rank was at fault and exits with the code that tells the cause.
 *
 * <p>The tasks run a wrapper that starts muster as a child (so that it can note when muster ended and with which
 * code) or does something else in its place on the rank under test.
 */
class BarrierFaultsIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    private static final Jdk JDK = Jdk.J25;

    /**
     * The task wrapper: {@code special} runs first on every rank (it may exit, sleep or kill the task), then muster
     * runs {@code command} with {@code options}; "end rank= rc= ns=" is appended to {@code ends} afterwards.
     */
    private Path wrapper(String special, String options, String command) throws IOException {
        Path d = cluster.dir();
        return cluster.script(
                "task.sh",
                ""
                        + "r=$SLURM_PROCID\n"
                        + special + "\n"
                        + Cluster.musterShell(JDK) + " run --sync-dir " + cluster.sync() + " " + options + " -- "
                        + command
                        + "\n"
                        + "rc=$?\n"
                        + "echo \"end rank=$r rc=$rc ns=$(date +%s%N)\" >> " + d + "/ends\n"
                        + "exit $rc");
    }

    /** A wait for {@code file} that a test creates, bounded so that a failed test leaves no task behind. */
    private String holdUntil(String file) {
        return "i=0; while [ ! -e " + cluster.dir().resolve(file) + " ] && [ $i -lt 400 ]; do sleep 0.05; "
                + "i=$((i+1)); done";
    }

    private Run.Result srun(String... args) {
        List<String> a = new ArrayList<>(List.of(
                "--kill-on-bad-exit=0",
                "--error",
                cluster.dir().resolve("err.%t").toString()));
        a.addAll(List.of(args));
        return cluster.srun(Duration.ofSeconds(45), Cluster.env(JDK), a.toArray(String[]::new));
    }

    /** rank → {rc, ns} from the wrapper's end lines. */
    private Map<Integer, Map<String, String>> ends() {
        Map<Integer, Map<String, String>> m = new TreeMap<>();
        for (Map<String, String> e : Fields.records(Run.read(cluster.dir().resolve("ends")), "end ")) {
            m.put(Integer.parseInt(e.get("rank")), e);
        }
        return m;
    }

    private String err(int rank) {
        return Run.read(cluster.dir().resolve("err." + rank));
    }

    private Path stepDir() throws IOException {
        return stepDirs().get(0);
    }

    private List<Path> stepDirs() throws IOException {
        try (Stream<Path> s = Files.list(cluster.sync())) {
            return s.filter(Files::isDirectory)
                    .filter(p -> !p.getFileName().toString().contains(".gone."))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    /** When {@code rank} arrived, from its arrival file. */
    private static Instant arrival(Path stepDir, int rank) {
        // arrival/<rank / width>/<rank>: the group depends on the step's size, so look in each
        Path file = stepDir.resolve("arrival").resolve("0").resolve(Integer.toString(rank));
        for (int g = 0; g <= rank; g++) {
            Path p = stepDir.resolve("arrival").resolve(Integer.toString(g)).resolve(Integer.toString(rank));
            if (Files.exists(p)) {
                file = p;
                break;
            }
        }
        String time = Fields.fields(Run.read(file)).get("time");
        assertTrue(time != null, "arrival file of rank " + rank + " in " + stepDir);
        return Instant.parse(time);
    }

    private static Instant nanos(String ns) {
        long n = Long.parseLong(ns);
        return Instant.ofEpochSecond(n / 1_000_000_000L, n % 1_000_000_000L);
    }

    private String diagnosis() {
        StringBuilder b = new StringBuilder("--- ends ---\n")
                .append(Run.read(cluster.dir().resolve("ends")));
        for (int r = 0; r < 4; r++) {
            b.append("--- err.").append(r).append(" ---\n").append(err(r));
        }
        return b.toString();
    }

    private void assertOnlyMusterLines(int rank) {
        for (String line : err(rank).lines().collect(Collectors.toList())) {
            assertTrue(line.startsWith("muster[" + rank + "]"), "rank " + rank + " stderr line: " + line);
        }
    }

    @ParameterizedTest
    @EnumSource(Waiters.class)
    @Timeout(60)
    void rankThatNeverStartsMuster_othersTimeOutAtTheirTimeoutNamingIt(Waiters w) throws Exception {
        w.require();
        Path task = wrapper("if [ $r = 3 ]; then sleep 6; exit 0; fi", "--timeout 3 -v " + w.option, "true");
        Run.Result r = srun("-N", "4", "--ntasks-per-node=1", task.toString());

        assertEquals(75, r.exit(), r.describe() + diagnosis());
        Map<Integer, Map<String, String>> ends = ends();
        Path step = stepDir();
        // Nobody gives up before the first deadline of the tasks that arrived (docs/barrier.md, "Timeouts": at
        // its deadline rank 0 writes the missing ranks, and a task whose deadline comes first claims that timeout
        // itself; every other task obeys it before its own deadline). That is rank 0's only when rank 0 arrived
        // first; with the waiter, ranks 1 and 2 often arrive before rank 0's JVM does.
        Instant firstDeadline = arrival(step, 0).plusSeconds(3);
        for (int rank = 1; rank < 3; rank++) {
            Instant d = arrival(step, rank).plusSeconds(3);
            firstDeadline = d.isBefore(firstDeadline) ? d : firstDeadline;
        }
        for (int rank = 0; rank < 3; rank++) {
            Map<String, String> e = ends.get(rank);
            assertEquals("75", e.get("rc"), "rank " + rank + "\n" + diagnosis());
            Duration waited = Duration.between(arrival(step, rank), nanos(e.get("ns")));
            Instant end = nanos(e.get("ns"));
            assertTrue(
                    !end.isBefore(firstDeadline)
                            || !end.isBefore(arrival(step, rank).plusSeconds(3)),
                    "rank " + rank + " gave up after " + waited + ", before the first deadline (" + firstDeadline
                            + ") and its own");
            // at its timeout, not at some later one: twice the 3 s timeout, for a loaded machine
            assertTrue(
                    waited.compareTo(Duration.ofSeconds(3).multipliedBy(2)) <= 0,
                    "rank " + rank + " exited " + waited + " after its arrival; timeout 3 s");
            assertTrue(
                    err(rank)
                            .contains("missing rank 3 (expected on "
                                    + Slurm.nodes().get(3) + ")"),
                    "rank " + rank + ": " + err(rank));
            assertOnlyMusterLines(rank);
        }
        // rank 0 decides the timeout in its waiter (or its JVM); the others may have timed out before rank 0 listened
        assertTrue(w.tookIt(err(0)), "rank 0 waited as " + w + "\n" + diagnosis());
        assertTrue(
                w == Waiters.JVM
                        ? !err(1).contains(Waiters.HANDED) && !err(2).contains(Waiters.HANDED)
                        : err(1).contains(Waiters.HANDED) || err(2).contains(Waiters.HANDED),
                "ranks 1 and 2 waited as " + w + "\n" + diagnosis());
    }

    @ParameterizedTest
    @EnumSource(Waiters.class)
    @Timeout(60)
    void commandNotFound_othersExitOnTheAbortWith127NamingTheRank(Waiters w) throws Exception {
        w.require();
        // rank 2 comes once the others are waiting (connected to rank 0, or handed over to the waiter), 2 s late
        // at most, so that they are already waiting when it aborts
        Path d = cluster.dir();
        String waiting = Waiters.CONNECTED;
        Path task = cluster.script(
                "task.sh",
                ""
                        + "r=$SLURM_PROCID; cmd=true\n"
                        + "if [ $r = 2 ]; then i=0; until [ $(cat " + d + "/err.1 " + d + "/err.3 2>/dev/null"
                        + " | grep -c '" + waiting + "') -ge 2 ] || [ $i -gt 400 ]; do sleep 0.05; i=$((i+1)); done\n"
                        + "  cmd=" + d + "/no-such-program; fi\n"
                        + Cluster.musterShell(JDK) + " run --sync-dir " + cluster.sync() + " --timeout 30 -v "
                        + w.option + " -- $cmd\n"
                        + "rc=$?\n"
                        + "echo \"end rank=$r rc=$rc ns=$(date +%s%N)\" >> " + d + "/ends\n"
                        + "exit $rc");
        Run.Result r = srun("-N", "2", "-n", "4", task.toString());

        assertEquals(127, r.exit(), r.describe() + diagnosis());
        Path outcome = stepDir().resolve("outcome");
        String decided = Run.read(outcome);
        assertTrue(decided.contains("kind=abort") && decided.contains("rank=2"), decided);
        Instant abortAt = Files.getLastModifiedTime(outcome).toInstant();
        Map<Integer, Map<String, String>> ends = ends();
        assertEquals("127", ends.get(2).get("rc"), diagnosis());
        assertTrue(err(2).contains("no-such-program"), err(2));
        for (int rank : new int[] {0, 1, 3}) {
            Map<String, String> e = ends.get(rank);
            assertEquals("127", e.get("rc"), "rank " + rank + " exits with the aborting rank's code\n" + diagnosis());
            Duration after = Duration.between(abortAt, nanos(e.get("ns")));
            // 127, not 75, already says the abort ended the wait; and long before the 30 s timeout
            assertTrue(
                    after.compareTo(Duration.ofSeconds(30).dividedBy(3)) <= 0,
                    "rank " + rank + " exited " + after + " after the abort marker; its timeout is 30 s");
            assertTrue(err(rank).contains("rank 2 aborted the barrier"), "rank " + rank + ": " + err(rank));
            assertOnlyMusterLines(rank);
            assertTrue(w.tookIt(err(rank)), "rank " + rank + " waited as " + w + ": " + err(rank));
        }
    }

    @Test
    @Timeout(60)
    void taskKilledBeforeArriving_isNamedAtTheTimeout() throws Exception {
        Path task = wrapper("if [ $r = 1 ]; then kill -KILL $$; fi", "--timeout 3", "true");
        Run.Result r = srun("-N", "2", "-n", "4", task.toString());

        assertEquals(137, r.exit(), r.describe() + diagnosis());
        Map<Integer, Map<String, String>> ends = ends();
        assertFalse(ends.containsKey(1), "rank 1 was killed\n" + diagnosis());
        for (int rank : new int[] {0, 2, 3}) {
            assertEquals("75", ends.get(rank).get("rc"), "rank " + rank + "\n" + diagnosis());
            assertTrue(err(rank).contains("missing rank 1"), "rank " + rank + ": " + err(rank));
        }
    }

    @Test
    @Timeout(60)
    void secondSrunInTheSameAllocation_neverSeesTheFirstStepsFiles() throws Exception {
        Path d = cluster.dir();
        // step 0: rank 3 never arrives, the others time out and leave their step directory (the diagnosis)
        Path first = wrapper("if [ $r = 3 ]; then exit 0; fi", "--timeout 2", "true");
        Path probe = cluster.script("probe.sh", "echo \"ok rank=$MUSTER_RANK key=$MUSTER_BARRIER_KEY\"");
        Path job = cluster.script(
                "job.sh",
                ""
                        + "srun -n 4 " + first + " > " + d + "/first.out 2>&1; echo \"first rc=$?\" >> " + d
                        + "/job.log\n"
                        + "ls " + cluster.sync() + " > " + d + "/between.ls\n"
                        + "srun -n 4 " + Cluster.musterShell(JDK) + " run --sync-dir " + cluster.sync()
                        + " --timeout 20 -- "
                        + probe + " > " + d + "/second.out 2>&1; echo \"second rc=$?\" >> " + d + "/job.log\n");
        Run.Result r = cluster.run(
                Duration.ofSeconds(50),
                Cluster.env(JDK),
                List.of(
                        "sbatch",
                        "--wait",
                        "--job-name",
                        cluster.jobName(),
                        "-N",
                        "2",
                        "-n",
                        "4",
                        "-o",
                        d.resolve("job.out").toString(),
                        job.toString()));
        String all = r.describe() + "\n--- job.log ---\n" + Run.read(d.resolve("job.log")) + "--- first ---\n"
                + Run.read(d.resolve("first.out")) + "--- second ---\n" + Run.read(d.resolve("second.out"));

        assertEquals(0, r.exit(), all);
        assertTrue(Run.read(d.resolve("job.log")).contains("first rc=75"), all);
        assertTrue(Run.read(d.resolve("job.log")).contains("second rc=0"), all);
        List<String> leftover = Run.read(d.resolve("between.ls")).lines().collect(Collectors.toList());
        assertEquals(1, leftover.size(), "the first step left its directory: " + leftover);
        String firstKey = leftover.get(0);
        assertTrue(Run.read(cluster.sync().resolve(firstKey).resolve("outcome")).contains("kind=timeout"));

        List<Map<String, String>> oks = Fields.records(Run.read(d.resolve("second.out")), "ok ");
        assertEquals(
                List.of("0", "1", "2", "3"),
                oks.stream().map(m -> m.get("rank")).sorted().collect(Collectors.toList()),
                all);
        for (Map<String, String> ok : oks) {
            assertNotEquals(firstKey, ok.get("key"), all);
        }
    }

    @Test
    @Timeout(90)
    void requeuedJob_neverSeesTheEarlierRunsFiles() throws Exception {
        Path d = cluster.dir();
        Path first = wrapper("if [ $r = 1 ]; then exit 0; fi", "--timeout 2", "true");
        Path probe = cluster.script("probe.sh", "echo \"ok rank=$MUSTER_RANK key=$MUSTER_BARRIER_KEY\"");
        Path job = cluster.script(
                "job.sh",
                ""
                        + "c=${SLURM_RESTART_COUNT:-0}\n"
                        + "if [ $c = 0 ]; then\n"
                        + "  srun -n 2 " + first + " > " + d + "/run0.out 2>&1; echo \"run0 rc=$?\" >> " + d
                        + "/job.log\n"
                        + "else\n"
                        + "  srun -n 2 " + Cluster.musterShell(JDK) + " run --sync-dir " + cluster.sync()
                        + " --timeout 20"
                        + " -- " + probe + " > " + d + "/run$c.out 2>&1; echo \"run$c rc=$?\" >> " + d + "/job.log\n"
                        + "fi\n");
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
                        "2",
                        "-n",
                        "2",
                        "-o",
                        d.resolve("job.%j.out").toString(),
                        job.toString()));
        assertEquals(0, submit.exit(), submit.describe());
        String id = submit.out().trim().split(";")[0];

        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> "COMPLETED".equals(cluster.job(id).get("JobState")));
        assertTrue(
                Run.read(d.resolve("job.log")).contains("run0 rc=75"),
                Run.read(d.resolve("job.log")) + Run.read(d.resolve("run0.out")));
        List<Path> before = stepDirs();
        assertEquals(1, before.size(), "the first run left its step directory");

        assertEquals(
                0,
                cluster.run(Duration.ofSeconds(15), Map.of(), List.of("scontrol", "requeue", id))
                        .exit());
        // A requeued job is held for 120 s; start it in 2 s. Not at once: the nodes revoked the first run's job
        // credential when it ended, and slurmd refuses a credential made in the same second as that revocation
        // ("Killing non-startable batch JobId=...: Job credential revoked" in slurmctld's log, once in ~10 runs).
        Run.Result now = cluster.run(
                Duration.ofSeconds(15), Map.of(), List.of("scontrol", "update", "JobId=" + id, "StartTime=now+2"));
        assertEquals(0, now.exit(), now.describe());
        Awaitility.await()
                .atMost(Duration.ofSeconds(40))
                .until(() -> Run.read(d.resolve("job.log")).contains("run1 "));

        String all = Run.read(d.resolve("job.log")) + "--- run1 ---\n" + Run.read(d.resolve("run1.out"));
        assertTrue(all.contains("run1 rc=0"), all);
        List<Map<String, String>> oks = Fields.records(Run.read(d.resolve("run1.out")), "ok ");
        assertEquals(2, oks.size(), all);
        String firstKey = before.get(0).getFileName().toString();
        for (Map<String, String> ok : oks) {
            assertNotEquals(firstKey, ok.get("key"), all);
            // same job, same step number: only the restart (and launch) tell the two runs apart
            assertTrue(
                    ok.get("key").startsWith(firstKey.substring(0, firstKey.indexOf(".0.") + 3)),
                    "same job and step: " + ok.get("key") + " vs " + firstKey);
        }
    }

    @Test
    @Timeout(60)
    void foreignFilesInArrival_areIgnored() throws Exception {
        Path trace = cluster.dir().resolve("trace");
        Path task = wrapper("if [ $r = 3 ]; then " + holdUntil("go") + "; fi", "--timeout 30 --trace " + trace, "true");
        Process srun = cluster.start(
                Cluster.env(JDK),
                List.of("srun", "--job-name", cluster.jobName(), "-N", "2", "-n", "4", task.toString()),
                "srun");

        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> !stepDirs().isEmpty()
                        && Files.exists(stepDir().resolve("arrival/0/0"))
                        && Files.exists(stepDir().resolve("arrival/0/1"))
                        && Files.exists(stepDir().resolve("arrival/1/2")));
        // four tasks: groups of two, rank 3 belongs in arrival/1/
        for (Path arrival : List.of(stepDir().resolve("arrival"), stepDir().resolve("arrival/1"))) {
            // names that a careless parser would count as rank 3 (or as any rank): none may release the barrier
            for (String name : List.of("bogus", "99", "007", "03", "3.tmp", "+3", "-3", " 3", "3 ", "4")) {
                Files.writeString(arrival.resolve(name), "host=elsewhere pid=1\n");
            }
            Files.createDirectory(arrival.resolve("3x"));
        }
        Path outcome = stepDir().resolve("outcome");
        Awaitility.await()
                .during(Duration.ofMillis(800))
                .atMost(Duration.ofSeconds(2))
                .until(() -> Run.read(outcome).isEmpty());
        Files.writeString(cluster.dir().resolve("go"), "");

        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !srun.isAlive());
        assertEquals(0, srun.exitValue(), Run.read(cluster.dir().resolve("srun.err")));
        Map<Integer, Map<String, String>> traced = new TreeMap<>();
        for (Map<String, String> t : Fields.records(Run.read(trace), "rank=")) {
            traced.put(Integer.parseInt(t.get("rank")), t);
        }
        assertEquals(List.of(0, 1, 2, 3), List.copyOf(traced.keySet()), Run.read(trace));
        long lastArrival = Long.parseLong(traced.get(3).get("arrive_us"));
        for (Map<String, String> t : traced.values()) {
            assertTrue(Long.parseLong(t.get("release_us")) >= lastArrival, "released before rank 3 arrived: " + t);
        }
    }

    @ParameterizedTest
    @EnumSource(Waiters.class)
    @Timeout(60)
    void termToOneWaitingTask_othersExitOnTheAbortWith143NamingIt(Waiters w) throws Exception {
        termWhileWaiting(w, 1);
    }

    /** Rank 0 itself, waiting in its waiter (the listener's, muster-wait.c) or in its JVM. */
    @ParameterizedTest
    @EnumSource(Waiters.class)
    @Timeout(60)
    void termToRank0WhileItWaits_othersExitOnTheAbortWith143NamingIt(Waiters w) throws Exception {
        termWhileWaiting(w, 0);
    }

    /** SIGTERM to {@code target} (0 or 1) once ranks 0-2 wait; rank 3 comes only afterwards. */
    private void termWhileWaiting(Waiters w, int target) throws Exception {
        w.require();
        int other = 1 - target;
        Path task = wrapper(
                "if [ $r = 3 ]; then " + holdUntil("go") + "; exit 0; fi", "--timeout 30 -v " + w.option, "true");
        Process srun = cluster.start(
                Cluster.env(JDK),
                List.of(
                        "srun",
                        "--job-name",
                        cluster.jobName(),
                        "--kill-on-bad-exit=0",
                        "--error",
                        cluster.dir().resolve("err.%t").toString(),
                        "-N",
                        "2",
                        "-n",
                        "4",
                        task.toString()),
                "srun");
        // four tasks: arrival groups of two (arrival/<rank / 2>/<rank>)
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> !stepDirs().isEmpty()
                        && Files.exists(stepDir().resolve("arrival/0/0"))
                        && Files.exists(stepDir().resolve("arrival/0/1"))
                        && Files.exists(stepDir().resolve("arrival/1/2"))
                        // the waiter's case: the signal must reach the waiter, not the JVM before it
                        && (w == Waiters.JVM || err(target).contains(Waiters.HANDED))
                        && err(1).contains(Waiters.CONNECTED)
                        && err(2).contains(Waiters.CONNECTED));
        String pid = Fields.fields(Run.read(stepDir().resolve("arrival/0/" + target)))
                .get("pid");
        Instant killedAt = Instant.now();
        Run.Result kill = cluster.run(Duration.ofSeconds(5), Map.of(), List.of("kill", "-TERM", pid));
        assertEquals(0, kill.exit(), kill.describe());

        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> ends().keySet().containsAll(List.of(0, 1, 2)));
        Files.writeString(cluster.dir().resolve("go"), "");
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !srun.isAlive());
        assertEquals(143, srun.exitValue(), Run.read(cluster.dir().resolve("srun.err")) + diagnosis());
        Map<Integer, Map<String, String>> ends = ends();
        assertEquals("143", ends.get(target).get("rc"), diagnosis());
        for (int rank : new int[] {other, 2}) {
            Map<String, String> e = ends.get(rank);
            assertEquals("143", e.get("rc"), "rank " + rank + "\n" + diagnosis());
            Duration after = Duration.between(killedAt, nanos(e.get("ns")));
            // long before the 30 s timeout (143, not 75, says the abort ended the wait)
            assertTrue(
                    after.compareTo(Duration.ofSeconds(30).dividedBy(3)) <= 0,
                    "rank " + rank + " exited " + after + " after rank " + target
                            + " got SIGTERM; its timeout is 30 s");
            assertTrue(err(rank).contains("rank " + target), "rank " + rank + ": " + err(rank));
            assertOnlyMusterLines(rank);
        }
        assertTrue(
                err(target).contains("error: stopped by SIGTERM while waiting for the barrier"),
                "rank " + target + " says why it ends: " + err(target));
        assertTrue(w.tookIt(err(target)), "rank " + target + " waited as " + w + ": " + err(target));
    }
}
