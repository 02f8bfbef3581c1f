package dev.muster.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Debian 12's JDK 17 alone builds muster: a copy of the sources is built by Maven with JAVA_HOME at JDK 17 and no
 * other JDK on PATH (unit tests of both modules included), and the launcher jar it makes, run on JDK 25, replaces
 * itself with the program by a true execve: the program has the JVM's PID.
 */
class Jdk17BuildIT {
    private static final Path JDK17 =
            Path.of(System.getenv().getOrDefault("MUSTER_IT_JAVA17", "/usr/lib/jvm/java-17-openjdk-amd64"));
    private static final Path JDK25 =
            Path.of(System.getenv().getOrDefault("MUSTER_IT_JAVA25", "/usr/lib/jvm/temurin-25-jdk-amd64"));

    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    @Test
    @Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
    void jdk17Build_passesUnitTests_andItsJarExecsOnJdk25() throws Exception {
        Dist.requireTool("JDK 17 (javac)", JDK17.resolve("bin/javac"));
        Dist.requireTool("JDK 25", JDK25.resolve("bin/java"));
        Path src = copySources(cluster.dir().resolve("src"));

        Map<String, String> env = new LinkedHashMap<>();
        env.put("JAVA_HOME", JDK17.toString());
        // only JDK 17's binaries, Maven and the basics: no newer JDK for Maven to find
        env.put("PATH", JDK17.resolve("bin") + ":/usr/bin:/bin");
        env.put("HOME", System.getProperty("user.home"));
        env.put("MAVEN_OPTS", "-Xmx512m");
        // no unit test may skip in the copy either: the shared conformance fixtures are named, and a test that
        // would skip for a missing tool or limit fails instead, as in the main build under CI
        env.put("MUSTER_REQUIRE_SLURM", "1");
        Path conformance = dev.muster.rendezvous.Conformance.sharedDir();
        if (conformance == null) {
            Slurm.unavailable("the shared conformance fixtures (shared/conformance/hpc-compose beside the checkout)");
        }
        // package runs the unit tests first; a failing one fails the build
        Dist.ok(
                Duration.ofMinutes(7),
                env,
                true,
                src,
                List.of(
                        "mvn",
                        "-B",
                        "-o",
                        "-q",
                        "-Dstyle.color=never",
                        "-Dmuster.conformance=" + conformance,
                        "package",
                        "-pl",
                        "launcher,agent"));
        for (String module : List.of("launcher", "agent")) {
            try (Stream<Path> reports = Files.list(src.resolve(module).resolve("target/surefire-reports"))) {
                for (Path r : (Iterable<Path>) reports::iterator) {
                    String name = r.getFileName().toString();
                    if (name.startsWith("TEST-") && name.endsWith(".xml")) {
                        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                                        "<testsuite [^>]*skipped=\"(\\d+)\"")
                                .matcher(Files.readString(r));
                        assertTrue(m.find(), "no testsuite line in " + r);
                        assertEquals("0", m.group(1), "a unit test skipped under JDK 17: " + name);
                    }
                }
            }
        }

        Path jar = src.resolve("launcher/target/muster.jar");
        try (JarFile j = new JarFile(jar.toFile())) {
            Manifest m = j.getManifest();
            assertEquals("17", m.getMainAttributes().getValue("Build-Jdk-Spec"), "not built by JDK 17");
            assertTrue(j.stream().noneMatch(e -> e.getName().startsWith("java/")), "the FFM stand-ins were packed");
            try (InputStream in = j.getInputStream(j.getEntry("dev/muster/exec/NativeExec.class"))) {
                byte[] head = in.readNBytes(8);
                assertEquals(61, head[7], "NativeExec is not a Java 17 class file");
            }
        }
        assertTrue(
                Files.isRegularFile(src.resolve("launcher/target/surefire-reports/TEST-dev.muster.json.JsonTest.xml")),
                "the launcher's unit tests did not run");
        assertTrue(
                Files.isDirectory(src.resolve("agent/target/surefire-reports")), "the agent's unit tests did not run");

        // On JDK 25 the program becomes the JVM's process: same PID.
        Process p = new ProcessBuilder(
                        JDK25.resolve("bin/java").toString(),
                        "-XX:-MaxFDLimit",
                        "--enable-native-access=ALL-UNNAMED",
                        "-jar",
                        jar.toString(),
                        "run",
                        "--no-barrier",
                        "--",
                        "sh",
                        "-c",
                        "echo $$")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals(Long.toString(p.pid()), out, "the program did not keep the JVM's PID (no true exec)");
    }

    /** pom.xml, launcher/ and agent/ without their build output, and dist/pom.xml for the reactor. */
    private static Path copySources(Path into) throws IOException {
        Path root = Dist.root();
        Files.createDirectories(into.resolve("dist"));
        Files.copy(root.resolve("pom.xml"), into.resolve("pom.xml"));
        Files.copy(root.resolve("dist/pom.xml"), into.resolve("dist/pom.xml"));
        for (String module : List.of("launcher", "agent")) {
            Path from = root.resolve(module);
            try (Stream<Path> files = Files.walk(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Path rel = from.relativize(f);
                    if (rel.startsWith("target")) {
                        continue;
                    }
                    Path to = into.resolve(module).resolve(rel.toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(f, to);
                    }
                }
            }
        }
        return into;
    }
}
