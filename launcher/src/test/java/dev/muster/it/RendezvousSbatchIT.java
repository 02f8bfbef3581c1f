package dev.muster.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.muster.rendezvous.Record;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The rendezvous examples run verbatim with sbatch on the local Slurm (SLURM_CONF): the seed's client submitted
 * before its provider, cancellation, SIGKILL of the whole provider step, two providers racing for one name, and a
 * record of a finished job. Skipped when Slurm does not answer, unless MUSTER_REQUIRE_SLURM=1.
 */
class RendezvousSbatchIT {
    private static Path root;
    private Path dir;
    private Path shared;
    private Path cache;
    private final List<String> jobs = new ArrayList<>();

    record Result(int status, String out, String err) {}

    @BeforeAll
    static void slurm() throws Exception {
        root = Path.of(System.getProperty("muster.root", "..")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(Path.of(System.getProperty("muster.jar", "target/muster.jar")))) {
            Slurm.unavailable("needs the packaged jar (mvn package, or -Dmuster.jar)");
        }
        Slurm.requireSlurm();
        assertTrue(Files.isExecutable(root.resolve("scripts/muster")), "scripts/muster is missing under " + root);
    }

    @BeforeEach
    void dirs() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "muster-rdzv-sbatch-");
        // the rendezvous cache is what the provider's and the client's nodes share: on the rig, each node reads it
        // through its own caching mount of the shared directory, as a cluster's nodes read a shared file system
        shared = Slurm.sharedDir("muster-rdzv-cache-");
        cache = shared.resolve("cache");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (String j : jobs) {
            run(List.of("scancel", j), Map.of(), 10);
        }
        for (String j : jobs) {
            await().atMost(Duration.ofSeconds(30)).until(() -> gone(j));
        }
        // nothing of this test may be left running: the registrar's command line names the cache directory
        await().atMost(Duration.ofSeconds(10))
                .until(() -> pids(cache.toString()).isEmpty());
        for (Path top : List.of(dir, shared)) {
            try (Stream<Path> all = Files.walk(top)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    @Timeout(120)
    void client_submittedBeforeProvider_waitsThenFetches_andScancelDeregisters() throws Exception {
        int port = freePort();
        String client = sbatch("client", "examples/rendezvous/client.sbatch", Map.of(), "60s");
        Path clientLog = dir.resolve("client.log");
        await().atMost(Duration.ofSeconds(30)).until(() -> read(clientLog).contains("waiting for rendezvous"));
        String provider = sbatch("provider", "examples/rendezvous/provider.sbatch", Map.of(), Integer.toString(port));
        await().atMost(Duration.ofSeconds(60)).until(() -> gone(client));
        String log = read(clientLog);
        assertTrue(log.contains("Directory listing"), "curl's output (the provider's directory listing): " + log);
        assertTrue(log.contains("muster[0] rendezvous model-server: http://"), log);
        Path latest = latest("model-server");
        assertTrue(Files.exists(latest), "the provider's record is still there while it runs");
        assertEquals(provider, record(latest).jobId());
        assertFalse(pids(cache.toString()).isEmpty(), "a registrar runs while the provider does");

        run(List.of("scancel", provider), Map.of(), 10);
        await().atMost(Duration.ofSeconds(15)).until(() -> !Files.exists(latest));
        await().atMost(Duration.ofSeconds(30)).until(() -> gone(provider));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> pids(cache.toString()).isEmpty()
                        && pids("http.server " + port).isEmpty());
        assertTrue(
                read(dir.resolve("provider.log")).contains("muster[0] deregistered rendezvous model-server"),
                read(dir.resolve("provider.log")));
    }

    @Test
    @Timeout(120)
    void javaProvider_servesTheSameClient() throws Exception {
        int port = freePort();
        String provider =
                sbatch("provider", "examples/rendezvous/java-provider.sbatch", Map.of(), Integer.toString(port));
        String client = sbatch("client", "examples/rendezvous/client.sbatch", Map.of(), "60s");
        await().atMost(Duration.ofSeconds(75)).until(() -> gone(client));
        String log = read(dir.resolve("client.log"));
        assertTrue(log.contains("hello from JavaProvider on"), "the Java provider's answer: " + log);
        run(List.of("scancel", provider), Map.of(), 10);
        await().atMost(Duration.ofSeconds(15)).until(() -> !Files.exists(latest("model-server")));
    }

    @Test
    @Timeout(120)
    void killNine_ofTheWholeProviderStep_lapsesWithinOneTtl_andRunClientsSkipItOnceTheJobIsGone() throws Exception {
        int port = freePort();
        String provider = sbatch(
                "provider", "examples/rendezvous/provider.sbatch", Map.of("TTL_SECONDS", "5"), Integer.toString(port));
        Path latest = latest("model-server");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(latest));
        List<Long> registrar = pids(cache.toString());
        List<Long> server = pids("^[^ ]*python3 -m http.server " + port);
        assertFalse(registrar.isEmpty(), "the registrar runs");
        assertFalse(server.isEmpty(), "the provider runs");
        // the registrar first, so that it cannot see the server go and deregister
        List<String> kill = new ArrayList<>(List.of("kill", "-KILL"));
        registrar.forEach(p -> kill.add(Long.toString(p)));
        server.forEach(p -> kill.add(Long.toString(p)));
        assertEquals(0, run(kill, Map.of(), 10).status);
        assertTrue(Files.exists(latest), "nobody deregistered: the record must lapse by itself");
        // the record's own lease, as the registrar last renewed it: resolve's TTL-only rule ends there
        Record last = Record.parse(Files.readString(latest), latest.toString());
        long expiresAt = System.currentTimeMillis() / 1000 + last.secondsLeft(System.currentTimeMillis() / 1000);

        // run clients ask Slurm: once the job is gone, the record is not handed out although its TTL runs
        await().atMost(Duration.ofSeconds(30)).until(() -> gone(provider));
        Result r = muster(List.of("run", "--rendezvous", "model-server", "--rendezvous-timeout", "1", "--", "true"));
        assertEquals(69, r.status, r.err);
        assertTrue(r.err.contains("belongs to job " + provider + ", which Slurm reports finished"), r.err);
        assertTrue(r.err.contains(cache.resolve("rendezvous").toString()), "names the cache directory: " + r.err);

        // the hpc-compose semantics of rendezvous resolve (TTL only): the record is handed out until its lease
        // ends and not after. Both windows count from the lease in the record, not from the kill: waiting for
        // Slurm to forget the job above may take longer than the TTL on a loaded machine.
        long now = System.currentTimeMillis() / 1000;
        await().atMost(Duration.ofSeconds(Math.max(0, expiresAt - now) + 5))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> muster(List.of("rendezvous", "resolve", "model-server")).status == 1);
        long lapsedAt = System.currentTimeMillis() / 1000;
        assertTrue(
                lapsedAt >= expiresAt - 1,
                "stopped resolving " + (expiresAt - lapsedAt) + " s before the lease in the record ended");
    }

    @Test
    @Timeout(120)
    void twoProvidersRacing_leaveOneParsableRecord_andTheLoserStopsRenewingOnce() throws Exception {
        Map<String, String> ttl = Map.of("TTL_SECONDS", "3");
        String first = sbatch("first", "examples/rendezvous/provider.sbatch", ttl, Integer.toString(freePort()));
        Path firstLog = dir.resolve("first.log");
        await().atMost(Duration.ofSeconds(30)).until(() -> read(firstLog).contains("registered rendezvous"));
        String second = sbatch("second", "examples/rendezvous/provider.sbatch", ttl, Integer.toString(freePort()));
        Path secondLog = dir.resolve("second.log");
        await().atMost(Duration.ofSeconds(30)).until(() -> read(secondLog).contains("registered rendezvous"));
        String lost = "this provider stops renewing its lease";
        await().atMost(Duration.ofSeconds(10))
                .until(() -> read(firstLog).contains(lost) || read(secondLog).contains(lost));
        // several renewal periods (1 s each): still one line, and the winner keeps its record alive
        await().during(Duration.ofSeconds(4))
                .atMost(Duration.ofSeconds(6))
                .until(() -> count(read(firstLog), lost) + count(read(secondLog), lost) == 1
                        && Files.exists(latest("model-server")));
        Record r = record(latest("model-server"));
        String loser = read(firstLog).contains(lost) ? first : second;
        String winner = loser.equals(first) ? second : first;
        assertEquals(winner, r.jobId(), "the record belongs to the provider that did not give up");
        assertTrue(r.secondsLeft(System.currentTimeMillis() / 1000) > 0, "and it is live");
    }

    @Test
    @Timeout(90)
    void recordOfAFinishedJob_isNeverHandedToARunClient() throws Exception {
        Result done = run(List.of("sbatch", "--parsable", "--wait", "-o", "/dev/null", "--wrap", "true"), Map.of(), 60);
        assertEquals(0, done.status, done.err);
        String finished = done.out.trim().split(";")[0];
        Result reg = muster(List.of(
                "rendezvous",
                "register",
                "model-server",
                "--host",
                "n1",
                "--port",
                "1",
                "--job-id",
                finished,
                "--ttl-seconds",
                "600"));
        assertEquals(0, reg.status, reg.err);
        assertEquals(0, muster(List.of("rendezvous", "resolve", "model-server")).status, "live by its TTL");

        Result single = muster(List.of(
                "run", "--rendezvous", "model-server", "--rendezvous-timeout", "1", "--", "echo", "must-not-run"));
        assertEquals(69, single.status, single.err);
        assertFalse(single.out.contains("must-not-run"));
        assertTrue(single.err.contains("Slurm reports finished"), single.err);

        // in a step, rank 0's failure aborts the step at once: every task exits 69, nobody waits for the barrier
        long start = System.nanoTime();
        Result step = run(
                List.of(
                        "srun",
                        "-n",
                        "2",
                        "--overcommit",
                        root.resolve("scripts/muster").toString(),
                        "run",
                        "--rendezvous",
                        "model-server",
                        "--rendezvous-timeout",
                        "1",
                        "--",
                        "echo",
                        "must-not-run"),
                env(),
                60);
        assertEquals(69, step.status, step.err);
        assertFalse(step.out.contains("must-not-run"));
        assertTrue((System.nanoTime() - start) / 1e9 < 30, "the step failed at once");
    }

    @Test
    @Timeout(90)
    void stepClient_rank0Resolves_andEveryRankExportsTheSameEndpoints() throws Exception {
        // job ids that are not Slurm's are not asked about: these records stand on their TTL
        assertEquals(
                0,
                muster(List.of(
                                "rendezvous",
                                "register",
                                "alpha",
                                "--host",
                                "n2",
                                "--port",
                                "9001",
                                "--job-id",
                                "manual-1"))
                        .status);
        assertEquals(
                0,
                muster(List.of(
                                "rendezvous",
                                "register",
                                "beta.x",
                                "--host",
                                "n3",
                                "--port",
                                "9002",
                                "--path",
                                "/v1",
                                "--job-id",
                                "manual-2"))
                        .status);
        Result r = run(
                List.of(
                        "srun",
                        "-N",
                        "2",
                        "-n",
                        "3",
                        "--overcommit",
                        root.resolve("scripts/muster").toString(),
                        "run",
                        "--rendezvous",
                        "alpha,beta.x",
                        "--optional",
                        "gamma",
                        "--rendezvous-timeout",
                        "1",
                        "--",
                        "sh",
                        "-c",
                        "echo \"$MUSTER_RANK $HPC_COMPOSE_RDZV_ALPHA_URL $HPC_COMPOSE_RDZV_BETA_X_PATH "
                                + "$HPC_COMPOSE_RDZV_NAME $HPC_COMPOSE_RDZV_URL\""),
                env(),
                60);
        assertEquals(0, r.status, r.err);
        List<String> lines = r.out.lines().sorted().toList();
        assertEquals(
                List.of(
                        "0 http://n2:9001 /v1 beta.x http://n3:9002/v1",
                        "1 http://n2:9001 /v1 beta.x " + "http://n3:9002/v1",
                        "2 http://n2:9001 /v1 beta.x http://n3:9002/v1"),
                lines);
        assertTrue(
                r.err.contains("muster[0] warning: optional rendezvous 'gamma' (no live record) not resolved"), r.err);
    }

    @Test
    @Timeout(90)
    void providerThatEnds_isDeregistered_andSrunIsNotHeldUpByTheRegistrar() throws Exception {
        int port = freePort();
        // listens for 2 s, then ends on its own; the registrar holds the task's stderr, which srun waits for
        String server = "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); "
                + "s.bind(('',%d)); s.listen(8); time.sleep(2); print('served', flush=True)";
        long start = System.nanoTime();
        Result r = run(
                List.of(
                        "srun",
                        "-n",
                        "1",
                        root.resolve("scripts/muster").toString(),
                        "run",
                        "--register",
                        "short-lived",
                        "--port",
                        Integer.toString(port),
                        "--ready",
                        "tcp:" + port,
                        "--",
                        "python3",
                        "-c",
                        String.format(server, port)),
                env(),
                60);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.contains("served"), r.out);
        assertTrue(r.err.contains("muster[0] registered rendezvous short-lived"), r.err);
        assertTrue(
                r.err.contains("muster[0] deregistered rendezvous short-lived"),
                "deregistered before srun " + "returned: " + r.err);
        assertFalse(Files.exists(latest("short-lived")));
        assertTrue(seconds < 2 + 6, "srun took " + seconds + " s for a 2 s program");
        assertTrue(pids(cache.toString()).isEmpty(), "the registrar left with the task");
    }

    // --- helpers

    private Map<String, String> env() {
        Map<String, String> e = new HashMap<>();
        e.put("CACHE_DIR", cache.toString());
        e.put("MUSTER_HOME", root.toString());
        return e;
    }

    private String sbatch(String name, String script, Map<String, String> extra, String... args) throws Exception {
        Map<String, String> e = env();
        e.putAll(extra);
        List<String> cmd = new ArrayList<>(List.of(
                "sbatch",
                "--parsable",
                "-J",
                "muster-rdzv-it-" + name,
                "-o",
                dir.resolve(name + ".log").toString(),
                "--chdir",
                dir.toString(),
                root.resolve(script).toString()));
        cmd.addAll(Arrays.asList(args));
        Result r = run(cmd, e, 30);
        assertEquals(0, r.status, "sbatch failed: " + r.err);
        String id = r.out.trim().split(";")[0];
        jobs.add(id);
        return id;
    }

    private Result muster(List<String> args) throws IOException, InterruptedException {
        List<String> cmd =
                new ArrayList<>(List.of(root.resolve("scripts/muster").toString()));
        cmd.addAll(args);
        return run(cmd, env(), 60);
    }

    private Path latest(String name) {
        return cache.resolve("rendezvous").resolve(name).resolve("latest.json");
    }

    private static Record record(Path f) throws IOException {
        return Record.parse(Files.readString(f), f.toString());
    }

    private static boolean gone(String job) throws IOException, InterruptedException {
        Result r = run(List.of("squeue", "-h", "-j", job, "-o", "%T"), Map.of(), 10);
        return r.out.isBlank();
    }

    /** PIDs of processes whose command line contains {@code fragment} (this test's own, never anyone else's). */
    private static List<Long> pids(String fragment) throws IOException, InterruptedException {
        Result r = run(List.of("pgrep", "-f", "--", fragment), Map.of(), 10);
        List<Long> out = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        for (String l : r.out.split("\n")) {
            if (!l.isBlank() && Long.parseLong(l.trim()) != self) {
                out.add(Long.parseLong(l.trim()));
            }
        }
        return out;
    }

    private static String read(Path f) throws IOException {
        return Files.exists(f) ? Files.readString(f) : "";
    }

    private static int count(String text, String line) {
        int n = 0;
        for (int i = text.indexOf(line); i >= 0; i = text.indexOf(line, i + 1)) {
            n++;
        }
        return n;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Result run(List<String> cmd, Map<String, String> extra, long timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(extra);
        Path out = Files.createTempFile("muster-it-out", ".txt");
        Path err = Files.createTempFile("muster-it-err", ".txt");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd));
            }
            return new Result(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
