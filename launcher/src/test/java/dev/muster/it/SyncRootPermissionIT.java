package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A sync root that muster must refuse (DESIGN §4): a symbolic link, a directory owned by another user, one it
 * cannot write. Every task says so in one line and exits 77. The tests run as {@code nobody} under a real srun,
 * because root may write anywhere: {@code runuser -u nobody -- srun ...} with the jar copied to a directory
 * nobody can read.
 */
class SyncRootPermissionIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    @ParameterizedTest
    @ValueSource(strings = {"symlink", "foreign-owner", "not-writable"})
    @Timeout(60)
    void unusableSyncRoot_everyTaskPrintsOneLineAndExits77(String kind) throws Exception {
        Path base = cluster.extraDir("muster-it-nobody-", "rwxr-xr-x");
        Path jar = base.resolve("muster.jar");
        Files.copy(Cluster.jar(), jar, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Path work = base.resolve("work");
        Files.createDirectory(work);
        chown(work, "nobody");

        Path root;
        Path untouched;
        String expected;
        switch (kind) {
            case "symlink" -> {
                untouched = base.resolve("target");
                Files.createDirectory(untouched);
                Files.setPosixFilePermissions(untouched, PosixFilePermissions.fromString("rwx------"));
                chown(untouched, "nobody");
                root = base.resolve("link");
                Files.createSymbolicLink(root, untouched);
                expected = "symbolic link";
            }
            case "foreign-owner" -> {
                root = base.resolve("daemons");
                Files.createDirectory(root);
                Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
                chown(root, "daemon");
                untouched = root;
                expected = "owned by uid";
            }
            default -> {
                root = base.resolve("readonly");
                Files.createDirectory(root);
                chown(root, "nobody");
                Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("r-x------"));
                untouched = root;
                expected = "not writable";
            }
        }

        List<String> cmd = new ArrayList<>(List.of(
                "runuser",
                "-u",
                "nobody",
                "--",
                "srun",
                "--job-name",
                cluster.jobName(),
                "-N",
                "2",
                "-n",
                "2",
                "--error",
                work.resolve("err.%t").toString()));
        cmd.add(Jdk.J25.java());
        cmd.addAll(List.of(
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-XX:-UsePerfData",
                "-XX:-MaxFDLimit",
                "-jar",
                jar.toString(),
                "run",
                "--timeout",
                "20",
                "--sync-dir",
                root.toString(),
                "--",
                "true"));
        Map<String, String> env = Map.of(
                "PATH",
                System.getenv("PATH"),
                "HOME",
                work.toString(),
                "SLURM_CONF",
                System.getenv().getOrDefault("SLURM_CONF", "/etc/slurm/slurm.conf"));
        Run.Result r = cluster.runClean(Duration.ofSeconds(40), env, work, cmd);

        assertEquals(77, r.exit(), r.describe());
        for (int rank = 0; rank < 2; rank++) {
            List<String> lines = Run.read(work.resolve("err." + rank)).lines().collect(Collectors.toList());
            assertEquals(1, lines.size(), "rank " + rank + " prints one line: " + lines);
            String line = lines.get(0);
            assertTrue(line.startsWith("muster[" + rank + "] "), line);
            assertTrue(line.contains(root.toString()), "names the directory: " + line);
            assertTrue(line.contains(expected), "says what is wrong (" + expected + "): " + line);
        }
        try (Stream<Path> s = Files.list(untouched)) {
            assertEquals(List.of(), s.collect(Collectors.toList()), "nothing created in " + untouched);
        }
    }

    private static void chown(Path p, String user) throws Exception {
        UserPrincipalLookupService users = p.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(p, users.lookupPrincipalByName(user));
    }
}
