package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a runtime (or a person) may hand {@code muster hook} instead of a good container state and bundle: each
 * gives one line on stderr that names the input, exit 65, nothing on stdout, and no sync directory created. The
 * shipped jar in a real process; no runtime needed, since the hook reads only its stdin and the bundle.
 */
class OciHookInputIT {
    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    private record Outcome(int exit, String out, List<String> err) {}

    private Outcome hook(byte[] stdin, String... args) throws Exception {
        Path in = cluster.dir().resolve("stdin");
        Files.write(in, stdin);
        List<String> cmd = new ArrayList<>(Cluster.muster(Jdk.J25));
        cmd.add("hook");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(in.toFile());
        pb.environment().putAll(Cluster.env(Jdk.J25));
        pb.environment().put("MUSTER_SYNC_DIR", sync().toString());
        pb.environment().put("SLURM_PROCID", "0"); // the hook's own environment is not the container's
        File out = cluster.dir().resolve("out").toFile();
        File err = cluster.dir().resolve("err").toFile();
        Process p = pb.redirectOutput(out).redirectError(err).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "muster hook hung");
        String e = Files.readString(err.toPath());
        return new Outcome(
                p.exitValue(), Files.readString(out.toPath()), e.isEmpty() ? List.of() : List.of(e.split("\n")));
    }

    private Path sync() {
        return cluster.dir().resolve("sync-never");
    }

    private Path bundle() throws Exception {
        Path b = cluster.dir().resolve("bundle");
        Files.createDirectories(b);
        return b;
    }

    private static byte[] state(Path bundle) {
        return ("{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":1,\"bundle\":\"" + bundle
                        + "\"}")
                .getBytes();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "empty",
                "not-json",
                "no-bundle",
                "relative-bundle",
                "huge",
                "no-config",
                "config-symlink",
                "config-fifo",
                "config-not-json",
                "config-huge",
                "config-bad-env"
            })
    @Timeout(60)
    void badStateOrConfig_oneLineExit65NothingCreated(String kind) throws Exception {
        byte[] stdin;
        String expected;
        Path config = bundle().resolve("config.json");
        switch (kind) {
            case "empty" -> {
                stdin = new byte[0];
                expected = "the container state on stdin is empty";
            }
            case "not-json" -> {
                stdin = "creating c1".getBytes();
                expected = "is not JSON";
            }
            case "no-bundle" -> {
                stdin = "{\"id\":\"c1\",\"status\":\"creating\"}".getBytes();
                expected = "has no \"bundle\"";
            }
            case "relative-bundle" -> {
                stdin = "{\"id\":\"c1\",\"bundle\":\"bundle\"}".getBytes();
                expected = "not an absolute path";
            }
            case "huge" -> {
                stdin = ("{\"bundle\":\"" + bundle() + "\",\"annotations\":{\"a\":\"" + "x".repeat(100_000) + "\"}}")
                        .getBytes();
                expected = "larger than 64 KiB";
            }
            case "no-config" -> {
                stdin = state(bundle());
                expected = config + " does not exist";
            }
            case "config-symlink" -> {
                Files.createSymbolicLink(config, Path.of("/etc/passwd"));
                stdin = state(bundle());
                expected = "is a symbolic link";
            }
            case "config-fifo" -> {
                assertEquals(
                        0,
                        new ProcessBuilder("mkfifo", config.toString()).start().waitFor());
                stdin = state(bundle());
                expected = "is not a regular file";
            }
            case "config-not-json" -> {
                Files.writeString(config, "{\"process\": {\"env\": [\"SLURM_PROCID=0\",]}}");
                stdin = state(bundle());
                expected = "is not valid JSON";
            }
            case "config-huge" -> {
                Files.writeString(config, "{\"process\":{\"env\":[\"A=" + "x".repeat(2 << 20) + "\"]}}");
                stdin = state(bundle());
                expected = "is larger than 1024 KiB";
            }
            default -> {
                Files.writeString(config, "{\"process\": {\"env\": \"SLURM_PROCID=0\"}}");
                stdin = state(bundle());
                expected = "\"process.env\" that is not a list of strings";
            }
        }
        Outcome o = hook(stdin);
        String all = o.toString();
        assertEquals(65, o.exit(), all);
        assertEquals("", o.out(), all);
        assertEquals(1, o.err().size(), all);
        assertTrue(o.err().get(0).startsWith("muster[-] error: hook: "), all);
        assertTrue(o.err().get(0).contains(expected), all);
        assertFalse(o.err().get(0).contains("root:x:0"), "no bytes of a file root was pointed at\n" + all);
        assertFalse(Files.exists(sync()), all);
    }

    @Test
    @Timeout(60)
    void containerNotATaskOfAStep_passesSilently_oneLineWhenVerbose() throws Exception {
        // the hook's own environment carries SLURM_PROCID (see hook()): only the container's counts
        Files.writeString(
                bundle().resolve("config.json"),
                "{\"process\":{\"user\":{\"uid\":65534,\"gid\":65534},"
                        + "\"env\":[\"PATH=/bin\",\"HOME=/root\"],\"args\":[\"/bin/sh\"]}}");
        Outcome quiet = hook(state(bundle()));
        assertEquals(new Outcome(0, "", List.of()), quiet);
        Outcome verbose = hook(state(bundle()), "--verbose");
        assertEquals(0, verbose.exit(), verbose.toString());
        assertEquals(1, verbose.err().size(), verbose.toString());
        assertTrue(verbose.err().get(0).contains("not a task of a step"), verbose.toString());
        assertFalse(Files.exists(sync()));
    }

    @Test
    @Timeout(60)
    void unclearIdentityInTheContainersEnvironment_is78_nothingCreated() throws Exception {
        Files.writeString(
                bundle().resolve("config.json"),
                "{\"process\":{\"env\":[\"SLURM_JOB_ID=7\","
                        + "\"SLURM_STEP_ID=0\",\"SLURM_PROCID=5\",\"SLURM_NTASKS=2\",\"SLURM_STEP_NUM_TASKS=2\"]}}");
        Outcome o = hook(state(bundle()));
        assertEquals(78, o.exit(), o.toString());
        assertEquals(1, o.err().size(), o.toString());
        assertTrue(o.err().get(0).contains("SLURM_PROCID"), o.toString());
        assertFalse(Files.exists(sync()), o.toString());
    }
}
