package dev.muster.dist;

import dev.muster.it.Cluster;
import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import dev.muster.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;

/** What the tarball and install tests share: the repository, a private work directory, commands that must succeed. */
final class Dist {
    private Dist() {}

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
        Path base = Path.of(System.getProperty("muster.dist.work", "target/it"))
                .toAbsolutePath()
                .normalize();
        Path dir = base.resolve(name + "-" + ProcessHandle.current().pid());
        TestFiles.deleteTree(dir);
        Files.createDirectories(dir);
        return dir;
    }

    /** A tool the test needs: skipped without it, failed under MUSTER_REQUIRE_SLURM=1 (scripts/test installs it). */
    static void requireTool(String what, Path path) {
        if (!Files.exists(path)) {
            Slurm.unavailable(what + " is not installed (" + path + "); scripts/test installs it as root");
        }
    }

    /** {@link Run#exec} that must exit 0. */
    static Run.Result ok(Duration timeout, Map<String, String> env, boolean clean, Path cwd, List<String> cmd) {
        Run.Result r = Run.exec(timeout, env, clean, cwd, cmd);
        Assertions.assertEquals(0, r.exit(), () -> String.join(" ", cmd) + ": " + r.describe());
        return r;
    }

    static Run.Result run(Duration timeout, Map<String, String> env, boolean clean, Path cwd, List<String> cmd) {
        return Run.exec(timeout, env, clean, cwd, cmd);
    }

    static String read(Path p) {
        return Run.read(p);
    }
}
