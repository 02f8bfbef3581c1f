package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar run as unprivileged users, where root would ignore permissions: the cache-directory trust rule
 * (DESIGN §5) with real owners, groups and modes. Needs root to create the users and a group; skipped otherwise.
 */
class RendezvousCliIT {
    private static final String GROUP = "mrdzvit";
    private static final String ALICE = "mrdzvita";
    private static final String BOB = "mrdzvitb";

    private static Path base;
    private static Path jar;
    private static boolean createdUsers;

    record Result(int status, String out, String err) {}

    @BeforeAll
    static void setUp() throws Exception {
        String jarProp = System.getProperty("muster.jar");
        if (jarProp == null || !Files.isRegularFile(Path.of(jarProp))) {
            Slurm.unavailable("needs -Dmuster.jar (failsafe sets it)");
        }
        if (Caller.self().uid() != 0) {
            Slurm.unavailable("needs root to run the jar as other users");
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/runuser")) && !Files.isExecutable(Path.of("/sbin/runuser"))) {
            Slurm.unavailable("needs runuser (util-linux)");
        }
        // JUnit's @TempDir is 0700 and the other users must get in: a private 0755 base under /tmp instead
        base = Files.createTempDirectory(Path.of("/tmp"), "muster-rdzv-it-");
        chmod(base, "rwxr-xr-x");
        jar = base.resolve("muster.jar");
        Files.copy(Path.of(jarProp), jar, StandardCopyOption.REPLACE_EXISTING);
        chmod(jar, "rw-r--r--");
        root("groupadd", "-f", GROUP);
        for (String u : List.of(ALICE, BOB)) {
            if (root("id", "-u", u) != 0) {
                assertEquals(
                        0,
                        root("useradd", "-M", "-N", "-g", GROUP, "-d", "/nonexistent", "-s", "/usr/sbin/nologin", u));
            }
        }
        createdUsers = true;
    }

    @AfterAll
    static void tearDown() throws IOException, InterruptedException {
        if (createdUsers) {
            root("userdel", ALICE);
            root("userdel", BOB);
            root("groupdel", GROUP);
        }
        if (base != null) {
            try (Stream<Path> all = Files.walk(base)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static int root(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        return p.waitFor();
    }

    private static void chmod(Path p, String perms) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    private static void chown(Path p, String owner, String group) throws IOException, InterruptedException {
        assertEquals(0, root("chown", owner + ":" + group, p.toString()));
    }

    /** {@code muster rendezvous ...} as {@code user}, with umask 002 as a group-shared project would set it. */
    private static Result as(String user, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                "runuser",
                "-u",
                user,
                "--",
                "/bin/sh",
                "-c",
                "umask 002 && exec \"$0\" \"$@\"",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString(),
                "rendezvous"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment()
                .keySet()
                .removeIf(k -> k.startsWith("SLURM_")
                        || k.startsWith("MUSTER_")
                        || k.equals("CACHE_DIR")
                        || k.startsWith("JAVA_TOOL"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "muster finished");
        return new Result(
                p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private static Result register(String user, Path cache, String name) throws IOException, InterruptedException {
        return as(
                user,
                "register",
                name,
                "--host",
                "node01",
                "--port",
                "8000",
                "--job-id",
                "42",
                "--cache-dir",
                cache.toString());
    }

    private static Path dir(String name, String owner, String group, String perms)
            throws IOException, InterruptedException {
        Path d = Files.createDirectory(base.resolve(name));
        chown(d, owner, group);
        chmod(d, perms);
        return d;
    }

    private static void assertRefused(Result r, int status, Path cache) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith("muster[-] error: ") && r.err().contains(cache.toString()), r.err());
        assertEquals("", r.out());
    }

    @Test
    void cacheOwnedByAUserOutsideCallersGroups_isRefused() throws Exception {
        Path cache = dir("foreign", ALICE, GROUP, "rwxr-xr-x");
        Result r = register("nobody", cache, "m");
        assertRefused(r, 1, cache);
        assertTrue(r.err().contains("not one of your groups"), r.err());
        assertRefused(as("nobody", "env", "m", "--cache-dir", cache.toString()), 77, cache);
        assertRefused(as("nobody", "wait", "m", "--timeout", "1s", "--cache-dir", cache.toString()), 77, cache);
        try (Stream<Path> s = Files.list(cache)) {
            assertEquals(0, s.count(), "nothing written");
        }
    }

    @Test
    void worldWritableWithoutSticky_isRefused_withSticky_accepted() throws Exception {
        Path open = dir("open", "root", "nogroup", "rwxrwxrwx");
        Result r = register("nobody", open, "m");
        assertRefused(r, 1, open);
        assertTrue(r.err().contains("writable by everyone without the sticky bit"), r.err());
        assertRefused(as("nobody", "deregister", "m", "--job-id", "42", "--cache-dir", open.toString()), 77, open);
        assertFalse(Files.exists(open.resolve("rendezvous")));

        Path sticky = dir("sticky", "root", "nogroup", "rwxrwxrwx");
        assertEquals(0, root("chmod", "1777", sticky.toString()));
        Result ok = register("nobody", sticky, "m");
        assertEquals(0, ok.status(), ok.toString());
        assertEquals(
                0,
                as("nobody", "resolve", "m", "--cache-dir", sticky.toString()).status());
    }

    @Test
    void groupSharedProjectCache_isAccepted_forEveryMember() throws Exception {
        Path project = dir("project", ALICE, GROUP, "rwxrwx---");
        assertEquals(0, root("chmod", "2770", project.toString()));
        Result bob = register(BOB, project, "model-server");
        assertEquals(0, bob.status(), bob.toString());
        Path latest = project.resolve("rendezvous/model-server/latest.json");
        int mode = (Integer) Files.getAttribute(latest, "unix:mode");
        assertEquals(0664, mode & 0777, "created with the process umask 002");

        Result alice = as(ALICE, "resolve", "model-server", "--cache-dir", project.toString());
        assertEquals(0, alice.status(), alice.toString());
        assertTrue(alice.out().contains("url: http://node01:8000\n"), alice.out());
        Result again = as(
                ALICE,
                "register",
                "model-server",
                "--host",
                "node02",
                "--port",
                "8000",
                "--job-id",
                "43",
                "--cache-dir",
                project.toString());
        assertEquals(0, again.status(), again.toString());
        Result left = as(BOB, "deregister", "model-server", "--job-id", "42", "--cache-dir", project.toString());
        assertEquals(0, left.status(), left.toString());
        assertTrue(Files.exists(latest), "job 43's record stays");
        assertEquals(
                0,
                as(BOB, "env", "model-server", "--cache-dir", project.toString())
                        .status());

        assertRefused(as("nobody", "list", "--cache-dir", project.toString()), 1, project);
    }

    @Test
    void freshFixtureCopies_resolveThroughTheJar() throws Exception {
        Path cache = dir("fixtures", "nobody", "nogroup", "rwxr-xr-x");
        Path nameDir = cache.resolve("rendezvous/model-server");
        Files.createDirectories(nameDir);
        Files.writeString(
                nameDir.resolve("latest.json"),
                Conformance.withRegisteredAt(
                                Conformance.fixture(Conformance.BASH_12345), System.currentTimeMillis() / 1000)
                        .replace("/shared/cache", cache.toString()));
        assertEquals(0, root("chown", "-R", "nobody:nogroup", cache.toString()));
        Result r = as("nobody", "env", "model-server", "--cache-dir", cache.toString());
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("export HPC_COMPOSE_RDZV_MODEL_SERVER_URL='http://node07:8000/'\n"), r.out());
        Result list = as("nobody", "list", "--cache-dir", cache.toString(), "--format", "json");
        assertEquals(0, list.status(), list.toString());
        assertTrue(list.out().startsWith("[\n  {\n") && list.out().endsWith("  }\n]\n"), list.out());
    }
}
