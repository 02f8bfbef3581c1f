package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.testing.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code run --start CMD --arrive-when PROBE} under srun, on Java 25 (true exec) and Java 17 (muster stays the
 * parent): a service is stopped with the task whatever it does, and a start-up that fails aborts the step at once
 * with a line naming the command and the probe.
 */
class StartServiceIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    /** A sleep nobody else runs, so that a leftover is recognised by its command line. */
    private static String uniqueSleep() {
        return "sleep " + (100_000 + ThreadLocalRandom.current().nextInt(800_000));
    }

    private Run.Result srun(Cluster.Jdk jdk, List<String> runArgs) {
        Map<String, String> env = new HashMap<>(Cluster.env(jdk));
        env.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        List<String> cmd = new ArrayList<>(List.of("-N", "2", "-n", "2"));
        cmd.addAll(Cluster.muster(jdk));
        cmd.add("run");
        cmd.addAll(runArgs);
        return cluster.srun(Duration.ofSeconds(60), env, cmd.toArray(new String[0]));
    }

    /** The supervisor's grace between SIGTERM and SIGKILL (Service.GRACE, docs/services.md). */
    private static final Duration GRACE = Duration.ofSeconds(5);

    private static long nanos(String line) {
        return Long.parseLong(line.substring(line.indexOf(' ') + 1).trim());
    }

    /**
     * A heartbeat or trap line that carries its time. The signals go to the service's whole process group, so the
     * {@code date} of a command substitution can be killed mid-line, leaving "beat " or "term " with no time: that
     * line says nothing about when it was written.
     */
    private static boolean timed(String line, String kind) {
        return line.matches(kind + " \\d+");
    }

    private static void assertGone(String sleep) {
        // the supervisor polls every 0.2 s and gives TERM GRACE before KILL: twice that, for a loaded machine
        Awaitility.await(sleep + " gone")
                .atMost(GRACE.multipliedBy(2).plusSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> ProcessHandle.allProcesses()
                        .noneMatch(h -> SshMeshIT.cmdline(h).contains(sleep)));
    }

    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void neverReady_abortsWithinTheArriveTimeout_namingProbeAndCommand_andStopsTheService(Cluster.Jdk jdk) {
        String sleep = uniqueSleep();
        Run.Result r =
                srun(jdk, List.of("--start", sleep, "--arrive-when", "tcp:1", "--arrive-timeout", "2", "--", "true"));
        assertEquals(69, r.exit(), r.describe());
        assertTrue(
                r.err().contains("--arrive-when tcp:1 (")
                        && r.err().contains("did not pass within 2s; --start '" + sleep + "' is still running"),
                r.describe());
        assertTrue(r.took().compareTo(Duration.ofSeconds(30)) < 0, r.describe());
        assertGone(sleep);
    }

    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void daemonizingService_runsWithTheProgram_andIsKilledWhenTheTaskEnds(Cluster.Jdk jdk) {
        String sleep = uniqueSleep();
        // the service's first process exits at once and leaves its child to init, in a session of its own
        Run.Result r = srun(
                jdk,
                List.of(
                        "--start",
                        "setsid " + sleep + " & exit 0",
                        "--",
                        "sh",
                        "-c",
                        "pgrep -f '" + sleep + "' >/dev/null && echo service-up-$MUSTER_RANK"));
        assertEquals(0, r.exit(), r.describe());
        assertTrue(r.out().contains("service-up-0") && r.out().contains("service-up-1"), r.describe());
        assertGone(sleep);
    }

    /**
     * A service that ignores SIGTERM: it ran (its heartbeat file), it got SIGTERM (its trap), it kept running
     * through the whole grace period (heartbeats for at least the grace less one heartbeat after the TERM, measured
     * by the service's own clock), the supervisor said it sends SIGKILL, and then it is gone.
     */
    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void serviceIgnoringTerm_isKilledAfterTheGrace(Cluster.Jdk jdk) throws Exception {
        Path beats = cluster.dir().resolve("beats");
        // SIGTERM runs the trap, which only notes it: the service goes on beating (a foreground sleep that TERM
        // kills just ends one beat early)
        Path svc = cluster.script(
                "svc.sh",
                ""
                        + "f=" + beats + ".$SLURM_PROCID\n"
                        + "trap 'echo \"term $(date +%s%N)\" >> $f' TERM\n"
                        + "echo \"start $(date +%s%N)\" >> $f\n"
                        + "while :; do echo \"beat $(date +%s%N)\" >> $f; sleep 0.1; done");
        Run.Result r = srun(jdk, List.of("--start", svc.toString(), "--", "true"));
        assertEquals(0, r.exit(), r.describe());
        // the supervisor outlives the step (srun has returned, so its warning is checked in the test below): the
        // service's heartbeats prove that it ran, got SIGTERM, was given the grace and was then killed
        assertGone(svc.toString());
        for (int r0 = 0; r0 < 2; r0++) {
            int rank = r0;
            Path f = Path.of(beats + "." + rank);
            List<String> lines = Files.readAllLines(f);
            assertTrue(lines.get(0).startsWith("start "), "rank " + rank + ": the service ran: " + lines);
            long term = lines.stream()
                    .filter(l -> timed(l, "term"))
                    .mapToLong(StartServiceIT::nanos)
                    .min()
                    .orElseThrow(() -> new AssertionError("rank " + rank + ": no SIGTERM: " + lines));
            long lastBeat = lines.stream()
                    .filter(l -> timed(l, "beat"))
                    .mapToLong(StartServiceIT::nanos)
                    .max()
                    .orElseThrow();
            Duration kept = Duration.ofNanos(lastBeat - term);
            assertTrue(
                    kept.compareTo(GRACE.minusSeconds(1)) >= 0,
                    "rank " + rank + ": the service ran only " + kept.toMillis() + " ms after SIGTERM, the grace is "
                            + GRACE.toSeconds() + " s");
        }
    }

    /**
     * The same, with the step kept alive past the grace (the program sleeps), so that srun still forwards the
     * supervisor's stderr: the SIGKILL warning names the command. On Java 17 muster stops its services itself
     * when the program ends, so the program's own end is the trigger on both paths.
     */
    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void serviceIgnoringTerm_warnsBeforeSigkill(Cluster.Jdk jdk) {
        String sleep = uniqueSleep();
        Map<String, String> env = new HashMap<>(Cluster.env(jdk));
        env.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        // a single task whose shell outlives muster until the service is gone (the warning comes before the
        // SIGKILL), so that srun still forwards the supervisor's stderr: no fixed wait, whatever the load
        String inner = Cluster.musterShell(jdk) + " run --start " + Cluster.quote("trap '' TERM; " + sleep)
                + " -- true; while pgrep -f '^" + sleep + "$' >/dev/null; do sleep 0.2; done";
        Run.Result r = cluster.srun(Duration.ofSeconds(60), env, "-n", "1", "sh", "-c", inner);
        assertEquals(0, r.exit(), r.describe());
        assertTrue(
                r.err()
                        .contains("warning: --start 'trap '' TERM; " + sleep + "' still running " + GRACE.toSeconds()
                                + "s after SIGTERM; sending SIGKILL"),
                r.describe());
        assertGone(sleep);
    }

    /** scancel of the job: the program dies with the step, and the services of every task are stopped too. */
    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void scancel_stopsTheServicesOfEveryTask(Cluster.Jdk jdk) throws Exception {
        String service = uniqueSleep();
        String program = uniqueSleep();
        Path up = cluster.dir().resolve("up");
        Map<String, String> env = new HashMap<>(Cluster.env(jdk));
        env.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        List<String> cmd = new ArrayList<>(List.of("srun", "--job-name", cluster.jobName(), "-N", "2", "-n", "2"));
        cmd.addAll(Cluster.muster(jdk));
        cmd.addAll(
                List.of("run", "--start", service, "--", "sh", "-c", "touch " + up + ".$MUSTER_RANK; exec " + program));
        Process srun = cluster.start(env, cmd, "srun");
        Awaitility.await("both programs running")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> Files.exists(Path.of(up + ".0")) && Files.exists(Path.of(up + ".1")));
        // the service processes themselves (the supervisors carry the command as an argument, not first)
        assertEquals(
                2,
                ProcessHandle.allProcesses()
                        .filter(h -> SshMeshIT.cmdline(h).startsWith(service))
                        .count(),
                "one service per task");
        Run.Result cancel =
                cluster.run(Duration.ofSeconds(20), Map.of(), List.of("scancel", "--name", cluster.jobName()));
        assertEquals(0, cancel.exit(), cancel.describe());
        Awaitility.await("srun ends").atMost(Duration.ofSeconds(30)).until(() -> !srun.isAlive());
        assertGone(program);
        assertGone(service);
    }

    /**
     * A service that fails on one task only: that task aborts the step with the service's code, and every other
     * task, whose own service is fine, exits with the same code, naming the rank.
     */
    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void failingServiceOnOneTask_everyOtherTaskExitsWithItsCode(Cluster.Jdk jdk) throws Exception {
        Path ready = cluster.dir().resolve("ready");
        Path svc = cluster.script(
                "svc1.sh",
                ""
                        + "if [ \"$SLURM_PROCID\" = 1 ]; then exit 42; fi\n"
                        + "touch " + ready + ".$SLURM_PROCID; exec sleep 60");
        Run.Result r = srun(
                jdk,
                List.of(
                        "--timeout",
                        "40",
                        "--start",
                        svc.toString(),
                        "--arrive-when",
                        "cmd:test -e " + ready + ".$SLURM_PROCID",
                        "--",
                        "true"));
        assertEquals(42, r.exit(), r.describe());
        assertTrue(r.err().contains("muster[1]") && r.err().contains("exited with 42"), r.describe());
        assertTrue(r.err().contains("muster[0]") && r.err().contains("rank 1 aborted"), r.describe());
        // rank 0 did not wait for the barrier's --timeout: the abort reached it
        assertTrue(r.took().compareTo(Duration.ofSeconds(40)) < 0, r.describe());
    }

    @ParameterizedTest
    @EnumSource(Cluster.Jdk.class)
    @Timeout(90)
    void startCommandNotFound_abortsAtOnceNamingIt(Cluster.Jdk jdk) {
        Run.Result r =
                srun(jdk, List.of("--start", "no-such-service-cmd --port 1", "--arrive-when", "tcp:1", "--", "true"));
        assertEquals(127, r.exit(), r.describe());
        assertTrue(
                r.err()
                        .contains("--start 'no-such-service-cmd --port 1' exited with 127 (command not found) "
                                + "before --arrive-when tcp:1 passed"),
                r.describe());
        assertTrue(r.took().compareTo(Duration.ofSeconds(30)) < 0, r.describe());
    }
}
