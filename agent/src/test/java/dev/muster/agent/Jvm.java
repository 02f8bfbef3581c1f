package dev.muster.agent;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A forked JVM for the integration tests: the JDK, flags, environment; output captured in files. */
final class Jvm {
    static final String JAVA17 = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
    static final String JAVA25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";
    /** Small and quick: the tests start many JVMs on a shared machine. */
    static final List<String> FAST =
            List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-XX:-UsePerfData", "-Xmx64m");

    static Path agentJar() {
        return Path.of(System.getProperty("muster.agent.jar", "target/muster-agent.jar"));
    }

    static String testClasses() {
        return System.getProperty("muster.test.classes", "target/test-classes");
    }

    /** A task of a simulated step of {@code size} tasks (what {@code muster local} sets), synced in {@code sync}. */
    static Jvm task(String java, String job, int rank, int size, Path sync) {
        return new Jvm(java)
                .env("MUSTER_LOCAL_JOB", job)
                .env("MUSTER_RANK", Integer.toString(rank))
                .env("MUSTER_SIZE", Integer.toString(size))
                .env("MUSTER_SYNC_DIR", sync.toString());
    }

    private final String java;
    private final List<String> args = new ArrayList<>();
    private final Map<String, String> env = new HashMap<>();
    private Path out;
    private Path err;
    private Process process;

    Jvm(String java) {
        this.java = java;
        args.addAll(FAST);
        // launcher variables of the test's own surroundings (srun, muster) must not leak into the tasks
        System.getenv().forEach((k, v) -> {
            if (!k.startsWith("SLURM_") && !k.startsWith("MUSTER_") && !k.startsWith("PMI") && !k.startsWith("OMPI_")) {
                env.put(k, v);
            }
        });
    }

    Jvm agent(String options) {
        args.add("-javaagent:" + agentJar() + (options == null || options.isEmpty() ? "" : "=" + options));
        return this;
    }

    Jvm arg(String... a) {
        args.addAll(List.of(a));
        return this;
    }

    Jvm env(String k, String v) {
        env.put(k, v);
        return this;
    }

    Jvm main(String cls, String... a) {
        args.add("-cp");
        args.add(testClasses());
        args.add(cls);
        args.addAll(List.of(a));
        return this;
    }

    Jvm start() throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env);
        out = Files.createTempFile("jvm", ".out");
        err = Files.createTempFile("jvm", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        process = pb.start();
        return this;
    }

    Process process() {
        return process;
    }

    int await(long seconds) throws Exception {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("JVM still running after " + seconds + " s: " + this);
        }
        return process.exitValue();
    }

    int run(long seconds) throws Exception {
        return start().await(seconds);
    }

    String out() throws IOException {
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    String err() throws IOException {
        return Files.readString(err, StandardCharsets.UTF_8);
    }

    /** The epoch millis that {@code Hello} printed when main started. */
    long mainStarted() throws IOException {
        for (String line : out().split("\n")) {
            if (line.startsWith("main ")) {
                return Long.parseLong(line.substring(5).trim());
            }
        }
        throw new AssertionError("main never started: " + this);
    }

    /**
     * Waits until {@code rank}'s arrival file exists anywhere under the sync root {@code sync} (the barrier's
     * {@code arrival/<group>/<rank>}), i.e. until that task waits at the gate; fails after {@code seconds} with
     * what {@code task} printed.
     */
    static void awaitArrival(Path sync, int rank, long seconds, Jvm task) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            try (java.util.stream.Stream<Path> w = Files.walk(sync)) {
                if (w.anyMatch(p -> p.getFileName().toString().equals(Integer.toString(rank))
                        && p.getParent().getParent() != null
                        && p.getParent().getParent().getFileName().toString().equals("arrival"))) {
                    return;
                }
            } catch (java.io.UncheckedIOException | IOException e) {
                // a directory appeared or went while walking: look again
            }
            Thread.sleep(20);
        }
        throw new AssertionError("rank " + rank + " did not arrive within " + seconds + " s: " + task);
    }

    /** Waits until a non-empty file called {@code name} exists anywhere under {@code sync}. */
    static void awaitFile(Path sync, String name, long seconds, Jvm task) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            try (java.util.stream.Stream<Path> w = Files.walk(sync)) {
                if (w.anyMatch(p ->
                        p.getFileName().toString().equals(name) && p.toFile().length() > 0)) {
                    return;
                }
            } catch (java.io.UncheckedIOException | IOException e) {
                // a directory appeared or went while walking: look again
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no " + name + " under " + sync + " within " + seconds + " s: " + task);
    }

    static String classPath(String... parts) {
        return String.join(File.pathSeparator, parts);
    }

    @Override
    public String toString() {
        try {
            return "java " + String.join(" ", args) + "\n--- stdout\n" + (out == null ? "" : out()) + "--- stderr\n"
                    + (err == null ? "" : err());
        } catch (IOException e) {
            return "java " + String.join(" ", args);
        }
    }
}
