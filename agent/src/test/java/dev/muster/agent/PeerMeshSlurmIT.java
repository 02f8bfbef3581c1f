package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * examples/peer-mesh under the local Slurm: 16 tasks on 4 nodes, rank 5 two seconds late. Without the agent (the
 * peers' hosts worked out from Slurm) the mesh fails; with arrive=bind,await=Peers#connectAll,roster=true all 16
 * find their peers in the roster ({@code muster.hosts}) and connect, 20 runs out of 20.
 */
class PeerMeshSlurmIT {
    private static final int TASKS = 16;
    private static final int RUNS = 20;

    @BeforeAll
    static void slurm() throws Exception {
        LocalSlurm.require();
    }

    /** One srun of the mesh; returns srun's code and the output of all tasks. */
    private static Result mesh(String agentOptions) throws Exception {
        Path classes = PeerMesh.compile();
        Path sync = Files.createTempDirectory("muster-agent-it");
        int base = PeerMesh.freeBasePort(TASKS);
        List<String> cmd = new ArrayList<>(
                List.of("srun", "-N", "4", "--ntasks-per-node=4", "--overcommit", "--time=2", Jvm.JAVA25));
        cmd.addAll(Jvm.FAST);
        cmd.add("-Xss256k");
        if (agentOptions != null) {
            cmd.add("-javaagent:" + Jvm.agentJar().toAbsolutePath() + "=" + agentOptions);
        }
        cmd.addAll(List.of("-cp", classes.toString(), "Peers", Integer.toString(base)));
        ProcessBuilder pb = LocalSlurm.command(cmd).redirectErrorStream(true);
        pb.environment().put("MUSTER_SYNC_DIR", sync.toString());
        pb.environment().put("PEERS_DELAY_RANK", "5");
        pb.environment().put("PEERS_DELAY_MS", "2000");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("srun still running after 120 s:\n" + out);
        }
        return new Result(p.exitValue(), out);
    }

    private record Result(int code, String out) {
        long connected() {
            return out.lines()
                    .filter(l -> l.endsWith("connected to all " + (TASKS - 1) + " peers (hosts from muster.hosts)"))
                    .count();
        }
    }

    @Test
    void withoutTheAgent_aLateRankBreaksTheMesh() throws Exception {
        Result r = mesh(null);
        assertNotEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("FAILED (hosts from Slurm)"), r.out());
    }

    @Test
    void withArriveOnBindAndAwaitAndRoster_all16FindAndConnect_20outOf20() throws Exception {
        List<String> failures = new ArrayList<>();
        for (int run = 1; run <= RUNS; run++) {
            Result r = mesh("arrive=bind,await=Peers#connectAll,roster=true");
            if (r.code() != 0 || r.connected() != TASKS) {
                failures.add("run " + run + ": srun exit " + r.code() + ", " + r.connected() + "/" + TASKS
                        + " connected\n" + r.out());
            }
        }
        assertEquals(List.of(), failures, (RUNS - failures.size()) + " of " + RUNS + " runs passed");
    }
}
