package dev.muster.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Signed records end to end under sbatch: the rendezvous examples, unchanged, with MUSTER_RDZV_KEY_FILE set. A
 * keyed provider's registrar signs; a client with the same key fetches the URL; a client with another key is
 * refused (exit 65, one line) and {@code rendezvous resolve} with it exits 1; a client without a key still reads
 * the signed record as hpc-compose's readers do.
 */
class SignedRendezvousSbatchIT {
    private static final Duration SHORT = Duration.ofSeconds(30);
    private Path root;
    private Path dir;
    private Path shared;
    private Path cache;
    private final List<String> jobs = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        root = Path.of(System.getProperty("muster.root", "..")).toAbsolutePath().normalize();
        assumeTrue(
                Files.isRegularFile(Path.of(System.getProperty("muster.jar", "target/muster.jar"))),
                "needs the packaged jar");
        Slurm.requireSlurm();
        dir = Files.createTempDirectory(Path.of("/tmp"), "muster-signed-it-");
        // the rendezvous cache is what the provider's and the client's nodes share: on the rig, each node reads it
        // through its own caching mount of the shared directory, as a cluster's nodes read a shared file system
        shared = Slurm.sharedDir("muster-signed-cache-");
        cache = shared.resolve("cache");
    }

    @AfterEach
    void cleanUp() throws IOException {
        for (String j : jobs) {
            Run.exec(SHORT, Map.of(), false, null, List.of("scancel", j));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> jobs.stream().allMatch(this::gone));
        await().atMost(Duration.ofSeconds(15))
                .until(() -> Run.exec(SHORT, Map.of(), false, null, List.of("pgrep", "-f", "--", cache.toString()))
                        .out()
                        .isBlank());
        for (Path top : List.of(dir, shared)) {
            try (Stream<Path> all = Files.walk(top)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private Path key(String name) throws IOException {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        Path f = Files.writeString(dir.resolve(name), Base64.getEncoder().encodeToString(b) + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private Map<String, String> env(Path key) {
        Map<String, String> e = new HashMap<>();
        e.put("CACHE_DIR", cache.toString());
        e.put("MUSTER_HOME", root.toString());
        if (key != null) {
            e.put("MUSTER_RDZV_KEY_FILE", key.toString());
        }
        return e;
    }

    private boolean gone(String job) {
        return Run.exec(SHORT, Map.of(), false, null, List.of("squeue", "-h", "-j", job, "-o", "%T"))
                .out()
                .isBlank();
    }

    @Test
    @Timeout(180)
    void keyedProviderAndClient_underSbatch_otherKeyRefused65_noKeyStillReads() throws Exception {
        Path project = key("project.key");
        Path other = key("other.key");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Run.Result p = Run.exec(
                SHORT,
                env(project),
                false,
                dir,
                List.of(
                        "sbatch",
                        "--parsable",
                        "-J",
                        "muster-signed-it",
                        "-o",
                        dir.resolve("provider.log").toString(),
                        root.resolve("examples/rendezvous/provider.sbatch").toString(),
                        Integer.toString(port)));
        assertEquals(0, p.exit(), p.describe());
        jobs.add(p.out().trim().split(";")[0]);
        Path latest = cache.resolve("rendezvous/model-server/latest.json");
        await().atMost(Duration.ofSeconds(90)).until(() -> Run.read(latest).contains("\"muster_signature\": "));

        Run.Result good = client("good", project);
        assertEquals(0, good.exit(), good.describe() + Run.read(dir.resolve("good.log")));
        assertTrue(Run.read(dir.resolve("good.log")).contains("Directory listing"), Run.read(dir.resolve("good.log")));

        Run.Result bad = client("bad", other);
        String badLog = Run.read(dir.resolve("bad.log"));
        assertEquals(65, bad.exit(), bad.describe() + badLog);
        assertEquals(1, badLog.lines().filter(l -> l.startsWith("muster[")).count(), badLog);
        assertTrue(badLog.contains("does not match the key " + other), badLog);

        Run.Result resolve = Run.exec(
                SHORT,
                env(other),
                false,
                dir,
                List.of(
                        root.resolve("scripts/muster").toString(),
                        "rendezvous",
                        "resolve",
                        "model-server",
                        "--cache-dir",
                        cache.toString()));
        assertEquals(1, resolve.exit(), resolve.describe());
        assertEquals(1, resolve.errLines().size(), resolve.describe());

        Run.Result none = client("none", null);
        assertEquals(0, none.exit(), none.describe() + Run.read(dir.resolve("none.log")));
    }

    /** The example client under {@code sbatch --wait}, whose exit status is the batch script's. */
    private Run.Result client(String name, Path key) {
        return Run.exec(
                Duration.ofSeconds(120),
                env(key),
                false,
                dir,
                List.of(
                        "sbatch",
                        "--wait",
                        "-J",
                        "muster-signed-it-" + name,
                        "-o",
                        dir.resolve(name + ".log").toString(),
                        root.resolve("examples/rendezvous/client.sbatch").toString(),
                        "30s"));
    }
}
