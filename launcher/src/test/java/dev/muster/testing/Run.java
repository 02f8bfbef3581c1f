package dev.muster.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;

/** Commands run to the end with a hard timeout (the test fails, and the command and its children are killed). */
public final class Run {
    private Run() {}

    /** What a finished command left: its exit status and everything it wrote. */
    public record Result(int exit, String out, String err, Duration took) {
        public List<String> errLines() {
            return err.isEmpty() ? List.of() : Arrays.asList(err.split("\n"));
        }

        public String describe() {
            return "exit " + exit + " after " + took.toMillis() + " ms\n--- stdout ---\n" + out + "--- stderr ---\n"
                    + err;
        }
    }

    /**
     * Runs {@code cmd} in {@code cwd} with {@code env} added to this JVM's environment (or, {@code clean}, as the
     * whole environment), stdin from /dev/null, output into temporary files.
     */
    public static Result exec(Duration timeout, Map<String, String> env, boolean clean, Path cwd, List<String> cmd) {
        long t0 = System.nanoTime();
        try {
            File out = File.createTempFile("muster-it-", ".out");
            File err = File.createTempFile("muster-it-", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd)
                        .directory(cwd == null ? null : cwd.toFile())
                        .redirectOutput(out)
                        .redirectError(err)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
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
                            + "\n--- stdout ---\n" + read(out.toPath()) + "--- stderr ---\n" + read(err.toPath()));
                }
                return new Result(
                        p.exitValue(),
                        read(out.toPath()),
                        read(err.toPath()),
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

    public static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
