package dev.muster.dist;

import dev.muster.it.Cluster;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What the tarball and install tests share: the repository, a private work directory, and commands with a timeout. */
final class Dist {
    private Dist() {
    }

    static Path root() {
        return Cluster.root();
    }

    /** The project version, as scripts/dist reads it (the parent pom's own version line). */
    static String version() throws IOException {
        for (String line : Files.readAllLines(root().resolve("pom.xml"))) {
            if (line.startsWith("  <version>")) {
                return line.replace("<version>", "").replace("</version>", "").trim();
            }
        }
        throw new AssertionError("no version in pom.xml");
    }

    /** A fresh directory under target/it of this module (failsafe sets muster.dist.work). */
    static Path freshDir(String name) throws IOException {
        Path base = Path.of(System.getProperty("muster.dist.work", "target/it")).toAbsolutePath().normalize();
        Path dir = base.resolve(name + "-" + ProcessHandle.current().pid());
        Cluster.deleteTree(dir);
        Files.createDirectories(dir);
        return dir;
    }

    /** A tool the test needs: skipped without it, failed under MUSTER_REQUIRE_SLURM=1 (CI installs it). */
    static void requireTool(String what, Path path) {
        if (Files.exists(path)) {
            return;
        }
        String why = what + " is not installed (" + path + "); scripts/test installs it as root";
        if ("1".equals(System.getenv("MUSTER_REQUIRE_SLURM"))) {
            Assertions.fail(why + " -- MUSTER_REQUIRE_SLURM=1 makes this a failure");
        }
        Assumptions.abort(why);
    }

    /** Runs {@code cmd} in {@code cwd} with {@code env} added to (or, when {@code clean}, as) its environment. */
    static Cluster.Result run(Duration timeout, Map<String, String> env, boolean clean, Path cwd, List<String> cmd) {
        long t0 = System.nanoTime();
        try {
            File out = File.createTempFile("muster-dist-", ".out");
            File err = File.createTempFile("muster-dist-", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectOutput(out)
                        .redirectError(err).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                if (clean) {
                    pb.environment().clear();
                }
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    Assertions.fail("timed out after " + timeout.toSeconds() + " s: " + String.join(" ", cmd)
                            + "\n--- stdout ---\n" + Cluster.read(out.toPath()) + "--- stderr ---\n"
                            + Cluster.read(err.toPath()));
                }
                return new Cluster.Result(p.exitValue(), Cluster.read(out.toPath()), Cluster.read(err.toPath()),
                        Duration.ofNanos(System.nanoTime() - t0));
            } finally {
                out.delete();
                err.delete();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** {@link #run} that must exit 0. */
    static Cluster.Result ok(Duration timeout, Map<String, String> env, boolean clean, Path cwd, List<String> cmd) {
        Cluster.Result r = run(timeout, env, clean, cwd, cmd);
        Assertions.assertEquals(0, r.exit(), () -> String.join(" ", cmd) + ": " + r.describe());
        return r;
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
