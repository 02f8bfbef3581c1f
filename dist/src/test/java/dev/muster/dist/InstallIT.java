package dev.muster.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster;
import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import dev.muster.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The release tarball and an installation made from it, as a site gets them: scripts/dist run twice (the same
 * bytes), the tarball unpacked and moved (relocatable), scripts/install into a fresh prefix pinning JDK 17, and
 * then everything through the INSTALLED bin/muster, never the source tree: a barrier under srun, the agent from
 * lib/, the rendezvous CLI, the man pages, bash completion, the Spack and EasyBuild recipes, and Debian's Lmod in a
 * fresh login shell.
 */
@Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
class InstallIT {
    private static final Duration SHORT = Duration.ofSeconds(60);
    private static final Duration DIST = Duration.ofMinutes(4);
    /** man's output as plain ASCII on one line per paragraph, whatever the locale CI runs in. */
    private static final Map<String, String> MAN_ENV = Map.of("MANWIDTH", "200", "LC_ALL", "C");

    private static final Path JDK17 = Path.of(
            System.getenv().getOrDefault("MUSTER_IT_JAVA17", "/usr/lib/jvm/java-17-openjdk-amd64"), "bin", "java");
    private static final Path JDK25 = Path.of(
            System.getenv().getOrDefault("MUSTER_IT_JAVA25", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java");

    private static Path work;
    private static String version;
    private static Path distA;
    private static Path distB;
    private static Path prefix;

    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    @BeforeAll
    static void distTwiceAndInstall() throws IOException {
        Dist.requireTool("help2man", Path.of("/usr/bin/help2man"));
        Dist.requireTool("JDK 17", JDK17);
        work = Dist.freshDir("install");
        version = Dist.version();
        distA = work.resolve("dist-a");
        distB = work.resolve("dist-b");
        // --no-build: the jars this Maven run packaged; dist itself runs java only for the --help texts
        Dist.ok(
                DIST,
                Map.of(),
                false,
                Dist.root(),
                List.of(Dist.root().resolve("scripts/dist").toString(), "--no-build", "--out", distA.toString()));
        Dist.ok(
                DIST,
                Map.of(),
                false,
                Dist.root(),
                List.of(Dist.root().resolve("scripts/dist").toString(), "--no-build", "--out", distB.toString()));
        prefix = work.resolve("prefix");
        Dist.ok(
                SHORT,
                Map.of(),
                false,
                Dist.root(),
                List.of(
                        Dist.root().resolve("scripts/install").toString(),
                        "--prefix",
                        prefix.toString(),
                        "--tarball",
                        tarball(distA).toString(),
                        "--java",
                        JDK17.toString()));
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (work != null) {
            TestFiles.deleteTree(work);
        }
    }

    private static Path tarball(Path dist) {
        return dist.resolve("muster-" + version + ".tar.gz");
    }

    /** An environment with no Java choice in it: the installed muster must use the Java it pinned. */
    private static Map<String, String> plainEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", System.getProperty("user.home"));
        // no start-up archive: its training would outlive the test, and the archive is not what is tested here
        env.put("MUSTER_CDS", "0");
        String conf = System.getenv("SLURM_CONF");
        if (conf != null) {
            env.put("SLURM_CONF", conf);
        }
        return env;
    }

    private Path unpack(Path into) throws IOException {
        Files.createDirectories(into);
        Dist.ok(
                SHORT,
                Map.of(),
                false,
                into,
                List.of("tar", "-xzf", tarball(distA).toString()));
        return into.resolve("muster-" + version);
    }

    @Test
    void dist_twice_givesTheSameBytes() throws IOException {
        String name = "muster-" + version + ".tar.gz";
        assertEquals(
                Dist.read(distA.resolve(name + ".sha256")),
                Dist.read(distB.resolve(name + ".sha256")),
                "two scripts/dist runs on one commit made different tarballs");
        assertTrue(Dist.read(distA.resolve(name + ".sha256"))
                .startsWith(Dist.ok(SHORT, Map.of(), false, distA, List.of("sha256sum", name))
                        .out()
                        .substring(0, 64)));
        Path a = unpack(cluster.dir().resolve("a"));
        Path b = cluster.dir().resolve("b");
        Files.createDirectories(b);
        Dist.ok(SHORT, Map.of(), false, b, List.of("tar", "-xzf", tarball(distB).toString()));
        assertEquals(Dist.read(a.resolve("SHA256SUMS")), Dist.read(b.resolve("muster-" + version + "/SHA256SUMS")));
        // and the sums are those of the files
        Dist.ok(SHORT, Map.of(), false, a, List.of("sha256sum", "--quiet", "-c", "SHA256SUMS"));
    }

    @Test
    void tarball_hasTheLayout_andWorksWhereItIsMoved() throws IOException {
        Path tree = unpack(cluster.dir().resolve("unpacked"));
        for (String f : List.of(
                "bin/muster",
                "bin/muster-agent-path",
                "bin/muster-oci-hook",
                "lib/muster.jar",
                "lib/muster-agent.jar",
                "lib/muster-lib.sh",
                "share/man/man1/muster.1",
                "share/man/man1/muster-run.1",
                "share/man/man1/muster-hook.1",
                "share/man/man1/muster-rendezvous.1",
                "share/doc/muster/README.md",
                "share/doc/muster/examples/srun-hello.sh",
                "share/modulefiles/muster/" + version + ".lua",
                "share/bash-completion/completions/muster",
                "SHA256SUMS")) {
            assertTrue(Files.isRegularFile(tree.resolve(f)), "tarball lacks " + f);
        }
        assertTrue(Files.isExecutable(tree.resolve("bin/muster")));
        // nothing of the build machine inside: not the checkout's path, not the JDK dist ran
        String rootPath = Dist.root().toString();
        Run.Result grep = Dist.run(
                SHORT,
                Map.of(),
                false,
                tree,
                List.of("grep", "-r", "-l", "-a", "-F", "-e", rootPath, "-e", distA.toString(), "."));
        assertEquals(1, grep.exit(), "files name the build machine's paths: " + grep.out());
        // relocatable: moved elsewhere, reached through a symbolic link, from another directory
        Path moved = cluster.dir().resolve("elsewhere/muster");
        Files.createDirectories(moved.getParent());
        Files.move(tree, moved);
        Path bin = Files.createDirectories(cluster.dir().resolve("bin"));
        Files.createSymbolicLink(bin.resolve("muster"), moved.resolve("bin/muster"));
        Files.createSymbolicLink(bin.resolve("muster-agent-path"), moved.resolve("bin/muster-agent-path"));
        Map<String, String> env = plainEnv();
        env.put("MUSTER_JAVA", JDK25.toString());
        Run.Result v = Dist.ok(
                SHORT, env, true, cluster.dir(), List.of(bin.resolve("muster").toString(), "--version"));
        assertTrue(v.out().startsWith("muster " + version + " (Java 25"), v.describe());
        Run.Result agent = Dist.ok(
                SHORT,
                env,
                true,
                cluster.dir(),
                List.of(bin.resolve("muster-agent-path").toString()));
        assertEquals(
                moved.resolve("lib/muster-agent.jar").toString(), agent.out().trim());
    }

    /**
     * The native files for both usual architectures (scripts/build-native builds the other one with Debian's cross
     * compiler): each an ELF of its machine, and the two libmuster.so export the same JNI functions, the ones
     * muster binds. The aarch64 waiter itself runs under qemu in WaiterIT; no aarch64 JVM runs here to load the
     * aarch64 library.
     */
    @Test
    void tarball_shipsTheNativeFilesOfBothUsualArchitectures() throws IOException {
        Path tree = unpack(cluster.dir().resolve("native"));
        Map<String, Integer> machines = Map.of("x86_64", 62, "aarch64", 183); // ELF e_machine: EM_X86_64, EM_AARCH64
        Map<String, TreeSet<String>> exported = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> m : machines.entrySet()) {
            Path dir = tree.resolve("lib/native/linux-" + m.getKey());
            if (!Files.isDirectory(dir)) {
                Slurm.unavailable("the tarball has no " + dir.getFileName() + " native files: scripts/build-native"
                        + " needs cc, and gcc-aarch64-linux-gnu on x86_64 (gcc-x86-64-linux-gnu on aarch64)");
            }
            for (String f : List.of("libmuster.so", "muster-wait")) {
                byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(dir.resolve(f)), 20);
                assertTrue(
                        head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F', f + " is an ELF file");
                int machine = (head[18] & 0xff) | (head[19] & 0xff) << 8;
                assertEquals((int) m.getValue(), machine, dir.getFileName() + "/" + f + "'s machine");
                assertTrue(Files.isExecutable(dir.resolve(f)), f + " is executable");
            }
            Run.Result syms =
                    Dist.ok(SHORT, Map.of(), false, dir, List.of("readelf", "--dyn-syms", "--wide", "libmuster.so"));
            TreeSet<String> jni = new TreeSet<>();
            Matcher j = Pattern.compile(" (Java_dev_muster_\\w+)").matcher(syms.out());
            while (j.find()) {
                jni.add(j.group(1));
            }
            assertFalse(jni.isEmpty(), "libmuster.so exports JNI functions: " + syms.out());
            exported.put(m.getKey(), jni);
        }
        assertEquals(exported.get("x86_64"), exported.get("aarch64"), "both builds export the same JNI functions");
    }

    @Test
    void installed_muster_usesThePinnedJava_unlessTold() {
        Path muster = prefix.resolve("bin/muster");
        assertEquals(
                JDK17.toString(), Dist.read(prefix.resolve("lib/java-path")).trim());
        Run.Result pinned = Dist.ok(SHORT, plainEnv(), true, cluster.dir(), List.of(muster.toString(), "--version"));
        // /usr/lib/jvm holds a newer JDK, which an unpinned muster would take
        assertTrue(pinned.out().startsWith("muster " + version + " (Java 17"), pinned.describe());
        Map<String, String> env = plainEnv();
        env.put("JAVA_HOME", JDK25.getParent().getParent().toString());
        assertTrue(
                Dist.ok(SHORT, env, true, cluster.dir(), List.of(muster.toString(), "--version"))
                        .out()
                        .contains("(Java 25"),
                "JAVA_HOME does not override the pinned Java");
        env = plainEnv();
        env.put("MUSTER_JAVA", JDK25.toString());
        assertTrue(
                Dist.ok(SHORT, env, true, cluster.dir(), List.of(muster.toString(), "--version"))
                        .out()
                        .contains("(Java 25"),
                "MUSTER_JAVA does not override the pinned Java");
    }

    @Test
    void installed_barrier_underSrun() {
        Slurm.requireSlurm();
        Run.Result r = Dist.ok(
                Duration.ofMinutes(2),
                plainEnv(),
                true,
                cluster.dir(),
                List.of(
                        "srun",
                        "--job-name",
                        cluster.jobName(),
                        "-N",
                        "2",
                        "-n",
                        "4",
                        "--overcommit",
                        prefix.resolve("bin/muster").toString(),
                        "run",
                        "--sync-dir",
                        cluster.sync().toString(),
                        "--",
                        "sh",
                        "-c",
                        "echo rank=$MUSTER_RANK size=$MUSTER_SIZE"));
        TreeSet<String> lines = new TreeSet<>(r.out().lines().collect(Collectors.toList()));
        assertEquals(
                new TreeSet<>(List.of("rank=0 size=4", "rank=1 size=4", "rank=2 size=4", "rank=3 size=4")),
                lines,
                r.describe());
    }

    @Test
    void installed_agent_fromLib_gatesMainUnderSrun() throws IOException {
        Slurm.requireSlurm();
        String agent = Dist.ok(
                        SHORT,
                        plainEnv(),
                        true,
                        cluster.dir(),
                        List.of(prefix.resolve("bin/muster-agent-path").toString()))
                .out()
                .trim();
        assertEquals(prefix.resolve("lib/muster-agent.jar").toString(), agent);
        Path hello = cluster.dir().resolve("Hello.java");
        Files.writeString(
                hello,
                "public class Hello { public static void main(String[] a) {"
                        + " System.out.println(\"hello \" + System.getenv(\"SLURM_PROCID\")); } }\n");
        Run.Result r = Dist.ok(
                Duration.ofMinutes(2),
                plainEnv(),
                true,
                cluster.dir(),
                List.of(
                        "srun",
                        "--job-name",
                        cluster.jobName(),
                        "-N",
                        "2",
                        "-n",
                        "2",
                        JDK17.toString(),
                        "-javaagent:" + agent + "=verbose=true,sync-dir=" + cluster.sync(),
                        hello.toString()));
        assertEquals(
                new TreeSet<>(List.of("hello 0", "hello 1")),
                new TreeSet<>(r.out().lines().toList()),
                r.describe());
        assertEquals(
                2,
                r.err()
                        .lines()
                        .filter(l -> l.matches("muster\\[[01]\\] released \\(.*"))
                        .count(),
                "the agent did not hold and release both tasks: " + r.describe());
    }

    @Test
    void installed_rendezvous_cli() {
        Path muster = prefix.resolve("bin/muster");
        String cache = cluster.dir().resolve("cache").toString();
        Dist.ok(
                SHORT,
                plainEnv(),
                true,
                cluster.dir(),
                List.of(
                        muster.toString(),
                        "rendezvous",
                        "register",
                        "model-server",
                        "--host",
                        "n1",
                        "--port",
                        "8080",
                        "--job-id",
                        "42",
                        "--cache-dir",
                        cache));
        Run.Result r = Dist.ok(
                SHORT,
                plainEnv(),
                true,
                cluster.dir(),
                List.of(
                        muster.toString(),
                        "rendezvous",
                        "resolve",
                        "model-server",
                        "--cache-dir",
                        cache,
                        "--format",
                        "json"));
        assertTrue(r.out().contains("\"url\": \"http://n1:8080\""), r.describe());
    }

    @Test
    void installed_manPages_renderTheHelpTexts() {
        Path man1 = prefix.resolve("share/man/man1");
        Run.Result main = Dist.ok(
                SHORT,
                MAN_ENV,
                false,
                cluster.dir(),
                List.of(
                        "man",
                        "--no-hyphenation",
                        "--no-justification",
                        "-l",
                        man1.resolve("muster.1").toString()));
        assertTrue(main.out().contains("muster - "), main.describe());
        Path muster = prefix.resolve("bin/muster");
        for (String command : List.of("run", "barrier", "local", "explain", "sweep", "doctor", "rendezvous")) {
            Path page = man1.resolve("muster-" + command + ".1");
            assertTrue(main.out().contains("muster-" + command + "(1)"), "muster(1) does not refer to " + page);
            String text = Dist.ok(
                            SHORT,
                            MAN_ENV,
                            false,
                            cluster.dir(),
                            List.of("man", "--no-hyphenation", "--no-justification", "-l", page.toString()))
                    .out();
            // every flag of the command's --help is on its page: the page is made from that text
            String help = Dist.ok(SHORT, plainEnv(), true, cluster.dir(), List.of(muster.toString(), command, "--help"))
                    .out();
            Matcher m = Pattern.compile("(?m)^\\s+(--[a-z][a-z-]+)").matcher(help);
            int flags = 0;
            while (m.find()) {
                flags++;
                assertTrue(text.contains(m.group(1)), page + " lacks " + m.group(1));
            }
            assertTrue(
                    flags > 0
                            || command.equals("explain")
                            || command.equals("sweep")
                            || command.equals("doctor")
                            || command.equals("local"),
                    "no flags read from " + command);
        }
    }

    @Test
    void completion_completesCommands_flags_andFormats() {
        Path completion = prefix.resolve("share/bash-completion/completions/muster");
        String script = "set -e\n. " + Cluster.quote(completion.toString()) + "\n"
                + "complete -p muster\n"
                + "c() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _muster;"
                + " echo \"${COMP_WORDS[*]}| ${COMPREPLY[*]}\"; }\n"
                + "c muster ren\n"
                + "c muster rendezvous re\n"
                + "c muster explain --format ''\n"
                + "c muster run --no-b\n";
        Run.Result r = Dist.ok(SHORT, plainEnv(), true, cluster.dir(), List.of("bash", "--norc", "-c", script));
        List<String> lines = r.out().lines().toList();
        assertEquals(
                List.of(
                        "complete -o bashdefault -o default -F _muster muster",
                        "muster ren| rendezvous",
                        "muster rendezvous re| register resolve",
                        "muster explain --format | text json",
                        "muster run --no-b| --no-barrier"),
                lines,
                r.describe());
    }

    @Test
    void recipes_carryThisTarballsVersionAndChecksum() throws IOException {
        String sum =
                Dist.read(distA.resolve("muster-" + version + ".tar.gz.sha256")).substring(0, 64);
        Path spack = distA.resolve("spack/muster/package.py");
        Path eb = distA.resolve("easybuild/muster-" + version + ".eb");
        for (Path recipe : List.of(spack, eb)) {
            // Python syntax (an easyconfig is Python too); neither Spack nor EasyBuild runs here
            Dist.ok(
                    SHORT,
                    Map.of(),
                    false,
                    cluster.dir(),
                    List.of(
                            "python3",
                            "-c",
                            "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
                            recipe.toString()));
            assertFalse(
                    Pattern.compile("@[A-Z0-9_]+@").matcher(Dist.read(recipe)).find(),
                    recipe + " still has a template placeholder");
        }
        String py = Dist.read(spack);
        assertTrue(py.contains("version(\"" + version + "\", sha256=\"" + sum + "\")"), py);
        assertTrue(py.contains("/muster-" + version + ".tar.gz\""), py);
        String ebText = Dist.read(eb);
        assertTrue(ebText.contains("version = '" + version + "'"), ebText);
        assertTrue(ebText.contains("checksums = ['" + sum + "']"), ebText);
        // the files the easyconfig's sanity check names are in the tarball
        List<String> files = Files.readAllLines(distA.resolve("muster-" + version + ".files"));
        Matcher m = Pattern.compile("'files': \\[([^]]*)]").matcher(ebText);
        assertTrue(m.find(), ebText);
        List<String> named = new ArrayList<>();
        Matcher f = Pattern.compile("'([^']+)'").matcher(m.group(1));
        while (f.find()) {
            named.add(f.group(1));
        }
        assertFalse(named.isEmpty());
        for (String n : named) {
            assertTrue(files.contains(n), "easyconfig checks for " + n + ", which the tarball lacks");
        }
        try (Stream<String> lines = Files.lines(distA.resolve("muster-" + version + ".files"))) {
            assertTrue(lines.anyMatch(l -> l.equals("share/modulefiles/muster/" + version + ".lua")));
        }
    }

    @Test
    void lmod_moduleLoad_inAFreshLoginShell() {
        Dist.requireTool("Lmod", Path.of("/etc/profile.d/lmod.sh"));
        Dist.requireTool("bash-completion", Path.of("/usr/share/bash-completion/bash_completion"));
        Slurm.requireSlurm();
        String script = "module use "
                + Cluster.quote(prefix.resolve("share/modulefiles").toString()) + "\n"
                + "module load muster\n"
                + "echo \"home=$MUSTER_HOME agent=$MUSTER_AGENT\"\n"
                + "muster --version\n"
                + "man -w muster\n"
                + "MANWIDTH=120 man muster | grep -c 'muster-run(1)'\n"
                + "srun --job-name " + cluster.jobName() + " -n 2 muster run --sync-dir "
                + Cluster.quote(cluster.sync().toString()) + " -- true && echo srun-ok\n"
                + "module help muster 2>&1 | grep -c 'Java >= 17'\n"
                // bash-completion's loader finds the completion through the module's XDG_DATA_DIRS
                + ". /usr/share/bash-completion/bash_completion && __load_completion muster && complete -p muster\n";
        Map<String, String> env = plainEnv();
        env.put("TERM", "dumb");
        Run.Result r = Dist.ok(Duration.ofMinutes(2), env, true, cluster.dir(), List.of("bash", "-l", "-c", script));
        List<String> lines = r.out().lines().toList();
        assertEquals(
                List.of(
                        "home=" + prefix + " agent=" + prefix.resolve("lib/muster-agent.jar"),
                        lines.get(1),
                        prefix.resolve("share/man/man1/muster.1").toString(),
                        "1",
                        "srun-ok",
                        "1",
                        "complete -o bashdefault -o default -F _muster muster"),
                lines,
                r.describe());
        assertTrue(lines.get(1).startsWith("muster " + version + " (Java 17"), r.describe());
    }
}
