package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** The local Slurm cluster the agent's Slurm tests run on (docs/test-cluster.md): is it there, and a new step. */
final class LocalSlurm {
    private static final String SLURM_CONF = "/tmp/local-slurm/etc/slurm.conf";

    private LocalSlurm() {}

    /** Skips the test when no Slurm controller answers, or fails it when {@code MUSTER_REQUIRE_SLURM=1}. */
    static void require() throws Exception {
        boolean up;
        try {
            Process p = command(List.of("scontrol", "ping")).start();
            up = p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            up = false;
        }
        if (!up && "1".equals(System.getenv("MUSTER_REQUIRE_SLURM"))) {
            fail("scontrol ping failed and MUSTER_REQUIRE_SLURM=1: start the local Slurm (scripts/local-slurm)");
        }
        Assumptions.assumeTrue(up, "no Slurm controller answers scontrol ping");
    }

    /**
     * {@code cmd} (srun, scontrol) for the local cluster: SLURM_CONF set when the environment has none, and none of
     * the variables of a step or muster task that runs the build, so that srun starts a new step.
     */
    static ProcessBuilder command(List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (System.getenv("SLURM_CONF") == null && Files.exists(Path.of(SLURM_CONF))) {
            pb.environment().put("SLURM_CONF", SLURM_CONF);
        }
        pb.environment()
                .keySet()
                .removeIf(k -> k.startsWith("MUSTER_") || k.startsWith("SLURM_") && !k.equals("SLURM_CONF"));
        return pb;
    }
}
