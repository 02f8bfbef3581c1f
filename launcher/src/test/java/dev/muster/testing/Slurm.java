package dev.muster.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** The local Slurm cluster the integration tests run on: is it there, and what if not. */
public final class Slurm {
    private Slurm() {}

    /** Skips the test when the local Slurm does not answer, or fails it when {@code MUSTER_REQUIRE_SLURM=1}. */
    public static void requireSlurm() {
        String why;
        try {
            Process p = new ProcessBuilder("scontrol", "ping")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                why = "scontrol ping did not answer within 15 s";
            } else if (p.exitValue() == 0 && out.contains("UP")) {
                return;
            } else {
                why = "scontrol ping: " + out.trim();
            }
        } catch (IOException e) {
            why = "no scontrol: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = "interrupted";
        }
        unavailable("no Slurm cluster (" + why + "); start one with scripts/local-slurm/start.sh");
    }

    /**
     * The cluster's node names in order ({@code n1..n4} on the default test cluster; a second cluster on the same
     * host has its own prefix, docs/test-cluster.md).
     */
    public static List<String> nodes() {
        try {
            Process p = new ProcessBuilder("sinfo", "-h", "-N", "-o", "%N")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Assertions.assertTrue(p.waitFor(15, TimeUnit.SECONDS) && p.exitValue() == 0, "sinfo: " + out);
            return Arrays.stream(out.split("\\s+"))
                    .filter(s -> !s.isEmpty())
                    .distinct()
                    .sorted(Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder()))
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Skips the test for {@code why}, or fails it when {@code MUSTER_REQUIRE_SLURM=1}. */
    public static void unavailable(String why) {
        if ("1".equals(System.getenv("MUSTER_REQUIRE_SLURM"))) {
            Assertions.fail(why + " -- MUSTER_REQUIRE_SLURM=1 makes this a failure");
        }
        Assumptions.abort(why);
    }
}
