package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FIFO-swap loop on the packaged jar: 200 resolves in a forked JVM of this Java (22+: the open is
 * O_NONBLOCK through FFM) and, when a JDK 17 is installed, 200 more on it (the bounded open on a helper thread),
 * and 10 {@code muster rendezvous resolve} processes, all against a swapper process, none blocking past its
 * timeout.
 */
class FifoSwapIT {
    @TempDir
    Path tmp;

    private static Path jar() {
        String jar = System.getProperty("muster.jar");
        assumeTrue(jar != null && Files.isRegularFile(Path.of(jar)), "needs -Dmuster.jar (failsafe sets it)");
        return Path.of(jar);
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Entry point of the forked JVM: the loop of {@link FifoSwapTest} on whatever classes the class path holds. */
    public static void main(String[] args) throws Exception {
        if (dev.muster.core.SharedFiles.nonBlocking() != Runtime.version().feature() >= 22) {
            System.out.println("Java " + Runtime.version().feature() + " took the wrong open: nonBlocking="
                    + dev.muster.core.SharedFiles.nonBlocking());
            System.exit(2);
        }
        Map<String, Integer> seen = FifoSwapTest.swapLoop(Path.of(args[0]), Integer.parseInt(args[1]), 2_000);
        System.out.println(seen);
        System.exit(seen.getOrDefault("fifo", 0) > 0 && seen.getOrDefault("found", 0) > 0 ? 0 : 1);
    }

    @Test
    void resolve_latestSwappedWithFifo_neverBlocks_onTheShippedJar() throws Exception {
        loop(java());
    }

    @Test
    void resolve_latestSwappedWithFifo_neverBlocks_onJava17() throws Exception {
        Path java17 = null;
        try (java.util.stream.Stream<Path> jvms = Files.list(Path.of("/usr/lib/jvm"))) {
            java17 = jvms.filter(p -> p.getFileName().toString().matches("(java-17|temurin-17|jdk-17).*"))
                    .map(p -> p.resolve("bin/java"))
                    .filter(Files::isExecutable)
                    .findFirst()
                    .orElse(null);
        } catch (java.io.IOException e) {
            // no /usr/lib/jvm
        }
        assumeTrue(java17 != null, "no JDK 17 under /usr/lib/jvm: the Java 17-21 open is left untested here");
        loop(java17.toString());
    }

    private void loop(String java) throws Exception {
        Path jar = jar();
        // the shipped jar first, then the test classes and JUnit; never target/classes, which has no versions/22
        List<String> cp = new ArrayList<>(List.of(jar.toString()));
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.endsWith("target/classes") && !e.endsWith(".jar")
                        || e.contains("junit")
                        || e.contains("awaitility")
                        || e.contains("hamcrest")
                        || e.contains("opentest4j")
                        || e.contains("apiguardian"))
                .forEach(cp::add);
        Process p = new ProcessBuilder(
                        java,
                        "--enable-native-access=ALL-UNNAMED",
                        "-cp",
                        String.join(File.pathSeparator, cp),
                        FifoSwapIT.class.getName(),
                        tmp.toString(),
                        "200")
                .redirectErrorStream(true)
                .start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readNBytes(20_000), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "the loop finished: " + out);
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void rendezvousResolve_latestSwappedWithFifo_neverBlocks() throws Exception {
        Path jar = jar();
        Store store =
                new Store(new CacheDir(tmp.toString(), dev.muster.core.Caller.self()), dev.muster.core.Clock.SYSTEM);
        Store.Registration reg = store.register("svc", "1", null, "node1", 8000, "http", null, 3600, Map.of());
        Path latest = store.nameDir("svc").resolve(Store.LATEST);
        int fifo = 0;
        try (var swapper =
                dev.muster.core.FifoSwapper.start(latest, reg.record().toJson().getBytes(StandardCharsets.UTF_8))) {
            for (int i = 0; i < 10; i++) {
                Process p = new ProcessBuilder(
                                java(),
                                "-jar",
                                jar.toString(),
                                "rendezvous",
                                "resolve",
                                "svc",
                                "--cache-dir",
                                tmp.toString())
                        .start();
                boolean done = p.waitFor(30, TimeUnit.SECONDS);
                String err = new String(p.getErrorStream().readNBytes(20_000), StandardCharsets.UTF_8);
                if (!done) {
                    p.destroyForcibly();
                }
                assertTrue(done, "resolve " + (i + 1) + " blocked for 30 s");
                assertTrue(
                        p.exitValue() == 0 || p.exitValue() == 1 && err.contains("FIFO"), p.exitValue() + ": " + err);
                fifo += err.contains("FIFO") ? 1 : 0;
                assertTrue(swapper.alive(), "the swapper process died");
            }
        }
        assertTrue(fifo > 0, "no resolve met the FIFO");
    }
}
