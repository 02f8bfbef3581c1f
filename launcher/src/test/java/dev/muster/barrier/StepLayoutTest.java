package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** The node a timeout message says a missing rank was expected on, from Slurm's variables (block order only). */
class StepLayoutTest {
    private static List<String> nodes(IntFunction<String> f, int ranks) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            out.add(f.apply(r));
        }
        return out;
    }

    @Test
    void block_fillsEachNodeInTurn_andARankPastTheLastNodeHasNone() {
        IntFunction<String> f =
                StepLayout.fromSlurm(Map.of("SLURM_STEP_NODELIST", "n[1-3]", "SLURM_STEP_TASKS_PER_NODE", "2(x2),1"));
        assertEquals(java.util.Arrays.asList("n1", "n1", "n2", "n2", "n3", null), nodes(f, 6));
    }

    @Test
    void stepVariables_winOverTheJobs_andTheJobsServeWithoutThem() {
        Map<String, String> both = Map.of(
                "SLURM_STEP_NODELIST", "a[1-2]",
                "SLURM_STEP_TASKS_PER_NODE", "1(x2)",
                "SLURM_JOB_NODELIST", "b[1-2]",
                "SLURM_TASKS_PER_NODE", "2,1");
        assertEquals(List.of("a1", "a2"), nodes(StepLayout.fromSlurm(both), 2));
        Map<String, String> job = Map.of("SLURM_JOB_NODELIST", "b[1-2]", "SLURM_TASKS_PER_NODE", "2,1");
        assertEquals(List.of("b1", "b1", "b2"), nodes(StepLayout.fromSlurm(job), 3));
        Map<String, String> blockCyclic = Map.of(
                "SLURM_JOB_NODELIST", "b[1-2]", "SLURM_TASKS_PER_NODE", "1,1", "SLURM_DISTRIBUTION", "block:cyclic");
        assertEquals(List.of("b1", "b2"), nodes(StepLayout.fromSlurm(blockCyclic), 2));
    }

    @Test
    void unknownLayouts_giveNoFunction() {
        assertNull(StepLayout.fromSlurm(Map.of()));
        assertNull(StepLayout.fromSlurm(Map.of("SLURM_STEP_NODELIST", "n1")), "no counts");
        assertNull(StepLayout.fromSlurm(Map.of("SLURM_STEP_TASKS_PER_NODE", "1")), "no nodes");
        assertNull(
                StepLayout.fromSlurm(Map.of(
                        "SLURM_STEP_NODELIST", "n[1-2]",
                        "SLURM_STEP_TASKS_PER_NODE", "1(x2)",
                        "SLURM_DISTRIBUTION", "cyclic")),
                "cyclic: rank r is not on the r-th block");
        assertNull(
                StepLayout.fromSlurm(Map.of("SLURM_STEP_NODELIST", "n[1-3]", "SLURM_STEP_TASKS_PER_NODE", "1(x2)")),
                "three nodes, two counts");
        assertNull(
                StepLayout.fromSlurm(Map.of("SLURM_STEP_NODELIST", "n[1-2]", "SLURM_STEP_TASKS_PER_NODE", "x(y")),
                "unreadable counts");
    }
}
