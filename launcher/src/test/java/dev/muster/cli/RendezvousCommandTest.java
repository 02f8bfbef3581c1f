package dev.muster.cli;

import static dev.muster.rendezvous.Conformance.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.core.Clock;
import dev.muster.rendezvous.Conformance;
import dev.muster.testing.Await;
import dev.muster.testing.ManualClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RendezvousCommandTest extends RendezvousCommandFixture {
    private static Clock at(long seconds) {
        return ManualClock.atEpochSeconds(seconds);
    }

    @Test
    void register_json_envelopeIsByteIdenticalToHpcCompose() {
        assertEquals(
                0,
                run(
                        at(100),
                        "register",
                        "model-server",
                        "--host",
                        "node01",
                        "--port",
                        "8000",
                        "--job-id",
                        "42",
                        "--ttl-seconds",
                        "300",
                        "--cache-dir",
                        cache(),
                        "--format",
                        "json"));
        String history = cache() + "/rendezvous/model-server/42-manual.json";
        String expected = fixture(Conformance.REGISTER_OUTPUT)
                        .replace("\"cache/rendezvous/model-server.json\"", "\"" + history + "\"")
                        .replace("\"cache\"", "\"" + cache() + "\"")
                + "\n";
        assertEquals(expected, out);
        assertEquals("", err);
    }

    @Test
    void register_text_andDefaults() throws IOException {
        env.put("SLURM_JOB_ID", "777");
        env.put("MUSTER_CACHE_DIR", cache());
        assertEquals(
                0,
                run(
                        "register",
                        "m",
                        "--host",
                        "n1",
                        "--port",
                        "9",
                        "--path",
                        "/x",
                        "--service",
                        "s",
                        "--metadata",
                        "b=2",
                        "--metadata",
                        "a=1=1"));
        String history = cache() + "/rendezvous/m/777-s.json";
        assertEquals("registered rendezvous: m\nurl: http://n1:9/x\njob id: 777\nrecord: " + history + "\n", out);
        String latest = Files.readString(Path.of(cache(), "rendezvous/m/latest.json"));
        assertTrue(latest.contains("  \"ttl_seconds\": 3600,\n"), latest);
        assertTrue(latest.endsWith("\"metadata\": {\n    \"a\": \"1=1\",\n    \"b\": \"2\"\n  }\n}"), latest);
    }

    @Test
    void cacheDir_fallsBackToCACHE_DIR_thenHome() {
        env.put("SLURM_JOB_ID", "1");
        env.put("CACHE_DIR", cache());
        assertEquals(0, run("register", "m", "--host", "h", "--port", "1"));
        assertTrue(Files.exists(Path.of(cache(), "rendezvous/m/latest.json")));
        env.remove("CACHE_DIR");
        env.put("HOME", tmp.toString());
        assertEquals(0, run("register", "m", "--host", "h", "--port", "1"));
        assertTrue(Files.exists(tmp.resolve(".cache/muster/rendezvous/m/latest.json")));
    }

    @Test
    void register_exitCodes_asHpcCompose() {
        assertEquals(2, run("register", "m", "--host", "h", "--port", "1", "--cache-dir", cache()));
        assertTrue(err.contains("no job id"), err);
        assertEquals(
                2, run("register", "m", "--host", "h", "--port", "70000", "--job-id", "1", "--cache-dir", cache()));
        assertEquals(
                2,
                run(
                        "register",
                        "m",
                        "--host",
                        "h",
                        "--port",
                        "1",
                        "--job-id",
                        "1",
                        "--ttl-seconds",
                        "-1",
                        "--cache-dir",
                        cache()));
        assertEquals(1, run("register", "m", "--host", "h", "--port", "0", "--job-id", "1", "--cache-dir", cache()));
        assertEquals("muster[-] error: rendezvous port must be at least 1\n", err);
        assertEquals(1, run("register", "a/b", "--host", "h", "--port", "1", "--job-id", "1", "--cache-dir", cache()));
        assertEquals(
                1,
                run(
                        "register",
                        "m",
                        "--host",
                        "h",
                        "--port",
                        "1",
                        "--job-id",
                        "1",
                        "--path",
                        "x",
                        "--cache-dir",
                        cache()));
        assertEquals(
                1,
                run(
                        "register",
                        "m",
                        "--host",
                        "h",
                        "--port",
                        "1",
                        "--job-id",
                        "1",
                        "--ttl-seconds",
                        "0",
                        "--cache-dir",
                        cache()));
        assertFalse(Files.exists(Path.of(cache())), "invalid input writes nothing");
        assertEquals(2, run("register", "m", "--bogus", "--cache-dir", cache()));
        assertEquals(2, run("register", "--host", "h", "--port", "1", "--job-id", "1", "--cache-dir", cache()));
    }

    /** The fixtures with a fresh registered_at and this test's cache dir, as a provider would have left them. */
    private void installFreshFixtures() throws IOException {
        long now = System.currentTimeMillis() / 1000;
        for (String[] f : new String[][] {{"model", Conformance.RUST_101}, {"model-server", Conformance.BASH_12345}}) {
            Path dir = Files.createDirectories(Path.of(cache(), "rendezvous", f[0]));
            Files.writeString(
                    dir.resolve("latest.json"),
                    Conformance.withRegisteredAt(fixture(f[1]), now).replace("/shared/cache", cache()));
        }
    }

    @Test
    void resolve_text_json_andNotFound() throws IOException {
        installFreshFixtures();
        assertEquals(0, run("resolve", "model-server", "--cache-dir", cache()));
        assertTrue(
                out.startsWith("name: model-server\nurl: http://node07:8000/\nhost: node07\nport: 8000\n"
                        + "job id: 12345\nservice: model\nexpires in: "),
                out);
        assertTrue(out.matches("(?s).*expires in: (3600|3599)s\n"), out);
        assertEquals(0, run("resolve", "model", "--cache-dir", cache(), "--format", "json"));
        assertTrue(out.startsWith("{\n  \"schema_version\": 1,\n  \"name\": \"model\",\n") && out.endsWith("}\n"), out);
        assertEquals(1, run("resolve", "nothing", "--cache-dir", cache()));
        assertEquals(
                "muster[-] error: no live rendezvous record named 'nothing' found under " + cache() + "/rendezvous\n",
                err);
        assertEquals("", out);
    }

    @Test
    void list_and_prune() throws IOException {
        assertEquals(0, run("list", "--cache-dir", cache()));
        assertEquals("no live rendezvous records found under " + cache() + "/rendezvous\n", out);
        assertEquals(0, run("list", "--cache-dir", cache(), "--format", "json"));
        assertEquals("[]\n", out);
        installFreshFixtures();
        assertEquals(0, run("list", "--cache-dir", cache()));
        assertEquals("model http://node-a:8000/v1 job=101\nmodel-server http://node07:8000/ job=12345\n", out);
        assertEquals(0, run("list", "--cache-dir", cache(), "--format", "json"));
        assertTrue(out.startsWith("[\n  {\n    \"schema_version\": 1,\n    \"name\": \"model\",\n"), out);
        assertTrue(
                out.endsWith("    \"metadata\": {\n      \"role\": \"server\",\n      \"version\": \"v1\"\n"
                        + "    }\n  }\n]\n"),
                out);

        assertEquals(0, run("prune", "--cache-dir", cache()));
        assertEquals("removed 0 rendezvous record(s)\n", out);
        assertEquals(
                0,
                run(
                        at(System.currentTimeMillis() / 1000 + 100_000),
                        "prune",
                        "--cache-dir",
                        cache(),
                        "--format",
                        "json"));
        assertEquals(
                "{\n  \"schema_version\": 1,\n  \"cache_dir\": \"" + cache() + "\",\n  \"removed\": [\n    \""
                        + cache() + "/rendezvous/model-server/latest.json\",\n    \"" + cache()
                        + "/rendezvous/model/latest.json\"\n  ]\n}\n",
                out);

        Files.createDirectories(Path.of(cache(), "rendezvous/bad"));
        Files.writeString(Path.of(cache(), "rendezvous/bad/latest.json"), "{\"port\": 70000}");
        assertEquals(1, run("list", "--cache-dir", cache()));
        assertTrue(err.contains("rendezvous/bad/latest.json"), err);
    }

    @Test
    void env_exportLines_generic_isTheLastName() throws IOException {
        installFreshFixtures();
        assertEquals(0, run("env", "model-server", "model", "--cache-dir", cache()));
        List<String> lines = List.of(out.split("\n"));
        assertTrue(lines.contains("export HPC_COMPOSE_RDZV_MODEL_SERVER_URL='http://node07:8000/'"), out);
        assertTrue(lines.contains("export HPC_COMPOSE_RDZV_MODEL_SERVICE='server'"), out);
        assertTrue(lines.contains("export HPC_COMPOSE_RDZV_URL='http://node-a:8000/v1'"), out);
        assertTrue(lines.contains("export HPC_COMPOSE_RDZV_NAME='model'"), out);
        assertEquals(24, lines.size());
        assertEquals(69, run("env", "model", "absent", "--cache-dir", cache()));
        assertEquals("", out);
        assertTrue(err.contains("'absent'") && err.contains(cache()), err);
        assertEquals(2, run("env", "model.server-v1", "model_server_v1", "--cache-dir", cache()));
        assertEquals(
                "muster[-] error: rendezvous names 'model.server-v1' and 'model_server_v1' both map to "
                        + "environment token 'MODEL_SERVER_V1'; choose names that map to distinct environment tokens\n",
                err);
    }

    @Test
    void env_nullFieldsAreEmpty_andValuesShellQuoted() {
        env.put("SLURM_JOB_ID", "it's");
        assertEquals(0, run("register", "m", "--host", "h", "--port", "1", "--cache-dir", cache()));
        assertEquals(0, run("env", "m", "--cache-dir", cache()));
        assertTrue(out.contains("export HPC_COMPOSE_RDZV_M_PATH=''\n"), out);
        assertTrue(out.contains("export HPC_COMPOSE_RDZV_M_SERVICE=''\n"), out);
        assertTrue(out.contains("export HPC_COMPOSE_RDZV_JOB_ID='it'\\''s'\n"), out);
    }

    @Test
    void deregister_ownerGuarded() {
        env.put("MUSTER_CACHE_DIR", cache());
        assertEquals(0, run("register", "m", "--host", "h", "--port", "1", "--job-id", "1"));
        assertEquals(0, run("register", "m", "--host", "h", "--port", "2", "--job-id", "2"));
        assertEquals(0, run("deregister", "m", "--job-id", "1"));
        assertTrue(err.contains("left rendezvous 'm' in place"), err);
        assertEquals(0, run("resolve", "m"));
        assertEquals(0, run("deregister", "m", "--job-id", "2"));
        assertEquals("deregistered rendezvous: m\n", out);
        assertEquals(1, run("resolve", "m"));
        assertEquals(2, run("deregister", "m"));
    }

    @Test
    void wait_returnsOnceRegistered_or69AtTheDeadline() throws Exception {
        env.put("MUSTER_CACHE_DIR", cache());
        assertEquals(69, run("wait", "late", "--timeout", "200ms"));
        assertTrue(err.contains("rendezvous name 'late' not live under " + cache() + "/rendezvous after 200ms"), err);
        // the provider registers once the second wait has looked and found nothing (it says so on stderr)
        errBytes.reset();
        CompletableFuture<Void> provider = CompletableFuture.runAsync(() -> {
            Await.until(
                    "the wait announced itself",
                    Duration.ofSeconds(10),
                    () -> errBytes.toString(StandardCharsets.UTF_8).contains("waiting for rendezvous late"));
            new RendezvousCommand()
                    .run(
                            List.of("register", "late", "--host", "h", "--port", "5", "--job-id", "9"),
                            new Context(
                                    Map.of("MUSTER_CACHE_DIR", cache()),
                                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                                    System.err,
                                    Clock.SYSTEM,
                                    Caller::self));
        });
        assertEquals(0, run("wait", "late", "--timeout", "10s"));
        provider.get();
        assertEquals("late http://h:5 job=9\n", out);
    }

    @Test
    void usage_help_andUnknown() {
        assertEquals(0, run("--help"));
        assertTrue(out.startsWith("Usage: muster rendezvous"));
        assertEquals(0, run("list", "--help"));
        assertEquals(2, run("frobnicate"));
        assertEquals(2, run("list", "--format", "xml"));
        assertEquals(2, run("list", "extra"));
        List<String> errors = new ArrayList<>(List.of(err.split("\n")));
        assertEquals(1, errors.size(), "one line: " + err);
    }
}
