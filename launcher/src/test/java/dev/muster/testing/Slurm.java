package dev.muster.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    private static final Pattern RIG_LINE = Pattern.compile("(?m)^# rig=1 .*\\bshared=(\\S+)");

    /** Whether the Slurm cluster at SLURM_CONF is the rig of scripts/local-slurm (nodes with their own namespaces). */
    public static boolean rig() {
        return rigLine().isPresent();
    }

    /**
     * Where every node of the rig sees the shared directory, each through its own caching mount
     * (docs/test-cluster.md): {@code LOCAL_SLURM_SHARED}, else what the rig's slurm.conf records; empty off the rig,
     * where /tmp is already one directory for every node and nothing caches.
     */
    public static Optional<Path> sharedRoot() {
        Optional<Matcher> rig = rigLine();
        if (rig.isEmpty()) {
            return Optional.empty();
        }
        String shared = System.getenv("LOCAL_SLURM_SHARED");
        return Optional.of(
                Path.of(shared != null && !shared.isEmpty() ? shared : rig.get().group(1)));
    }

    /**
     * A new private (0700) directory for what a test means to share between nodes, such as a rendezvous cache: under
     * {@link #sharedRoot()} on the rig, so that a node reads what another wrote through its own caching mount, as on
     * a cluster's NFS; else under /tmp. The caller removes it.
     */
    public static Path sharedDir(String prefix) throws IOException {
        Path parent = sharedRoot().orElse(Path.of("/tmp"));
        Files.createDirectories(parent);
        Path p = Files.createTempDirectory(parent, prefix);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    private static Optional<Matcher> rigLine() {
        Path conf = Path.of(System.getenv().getOrDefault("SLURM_CONF", "/etc/slurm/slurm.conf"));
        try {
            if (!Files.isReadable(conf)) {
                return Optional.empty();
            }
            Matcher m = RIG_LINE.matcher(Files.readString(conf));
            return m.find() ? Optional.of(m) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
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
