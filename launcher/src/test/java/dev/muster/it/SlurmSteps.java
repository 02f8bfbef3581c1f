package dev.muster.it;

import dev.muster.testing.Leftovers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Steps of the already-running local Slurm (4 nodes on this host) for the TCP and doctor ITs: task scripts in a
 * private directory, srun with a bound, the trace and end records the tasks leave. No Slurm: skipped, unless
 * {@code MUSTER_REQUIRE_SLURM=1}, then failed.
 */
final class SlurmSteps {
    static final String SLURM_CONF = System.getenv().getOrDefault("SLURM_CONF", "/tmp/local-slurm/etc/slurm.conf");
    static final String JAVA =
            Path.of(System.getProperty("java.home"), "bin", "java").toString();
    static final String JAR = System.getProperty("muster.jar", "target/muster.jar");
    /** What scripts/muster passes, plus a small heap: 64 JVMs share two cores here. */
    static final String JVM = JAVA + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xss256k -Xmx48m"
            + " -XX:-MaxFDLimit -jar " + Path.of(JAR).toAbsolutePath();

    final Path dir;
    final Path sync;

    SlurmSteps(Path dir) throws IOException {
        requireSlurm();
        this.dir = dir;
        this.sync = dir.resolve("sync");
        Files.createDirectory(sync, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    static void requireSlurm() {
        String why;
        try {
            Process p = new ProcessBuilder("scontrol", "ping")
                    .redirectErrorStream(true)
                    .start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            why = p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0 && out.contains("UP") ? null : out.trim();
        } catch (IOException e) {
            why = e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = e.toString();
        }
        if (why != null) {
            String msg = "no local Slurm (scontrol ping: " + why + "); start it with scripts/local-slurm/start.sh";
            if ("1".equals(System.getenv("MUSTER_REQUIRE_SLURM"))) {
                Assertions.fail(msg);
            }
            Assumptions.abort(msg);
        }
    }

    /** Writes an executable task script (bash) into the test directory. */
    Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/bash\nr=$SLURM_PROCID\nD=" + dir + "\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    /** {@code muster barrier} in a task, with the trace and its stderr in the test directory. */
    String barrier(String options) {
        return JVM + " barrier --sync-dir " + sync + " --trace " + dir.resolve("trace") + " " + options + " 2>> " + dir
                + "/err.$r";
    }

    /**
     * A task's wait the way {@code w} asks: {@code muster barrier} in the JVM as {@link #barrier}, or {@code muster
     * run ... -- true}, whose wait the small waiter takes over once connected.
     */
    String wait(Waiters w, String options) {
        if (w == Waiters.JVM) {
            return barrier(options);
        }
        return JVM + " run --sync-dir " + sync + " --trace " + dir.resolve("trace") + " " + options + " -- true 2>> "
                + dir + "/err.$r";
    }

    /** Appends "end rank= rc= ns=" after the command before it. */
    String end() {
        return "rc=$?; echo \"end rank=$r rc=$rc ns=$(date +%s%N)\" >> " + dir + "/ends; exit $rc";
    }

    Process start(int nodes, int tasks, Path script) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                "srun",
                "-N",
                Integer.toString(nodes),
                "-n",
                Integer.toString(tasks),
                "--overcommit",
                "--kill-on-bad-exit=0",
                "-o",
                dir + "/out.%t",
                "-e",
                dir + "/srun-err.%t",
                script.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("srun.log").toFile());
        pb.environment().put("SLURM_CONF", SLURM_CONF);
        pb.environment().remove("MUSTER_TCP");
        return pb.start();
    }

    int run(int nodes, int tasks, Path script, Duration bound) throws IOException, InterruptedException {
        Process p = start(nodes, tasks, script);
        return finish(p, bound);
    }

    int finish(Process p, Duration bound) throws InterruptedException {
        if (!p.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            Assertions.fail("srun did not end within " + bound + "; srun.log: " + read("srun.log"));
        }
        // every task has ended; rank 0's detached clean-up helper may still be removing a released step, and the
        // test's next step or JUnit's removal of the directory must not race it
        List<String> problems = Leftovers.awaitCleanups(List.of(dir.toString()));
        Assertions.assertTrue(problems.isEmpty(), () -> String.join("; ", problems));
        return p.exitValue();
    }

    String read(String name) {
        try {
            Path p = dir.resolve(name);
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** key=value records of the lines of {@code name} that start with {@code prefix} (or all). */
    List<Map<String, String>> records(String name, String prefix) {
        List<Map<String, String>> out = new ArrayList<>();
        for (String line : read(name).split("\n")) {
            if (line.isBlank() || (prefix != null && !line.startsWith(prefix))) {
                continue;
            }
            Map<String, String> m = new HashMap<>();
            for (String kv : line.trim().split("\\s+")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    m.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            out.add(m);
        }
        return out;
    }

    /** The stderr of every task, for failure messages. */
    String errs() {
        StringBuilder b = new StringBuilder(read("srun.log"));
        try (var s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().startsWith("err."))
                    .sorted()
                    .forEach(p -> b.append(read(p.getFileName().toString())));
        } catch (IOException e) {
            b.append(e);
        }
        return b.length() > 6000 ? b.substring(0, 6000) + "..." : b.toString();
    }
}
