package dev.muster.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Posix;
import dev.muster.core.Processes;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobStatusTest {
    @Test
    void slurmStates_areClassified() {
        assertEquals(JobStatus.State.ACTIVE, JobStatus.Slurm.classify("RUNNING"));
        assertEquals(JobStatus.State.ACTIVE, JobStatus.Slurm.classify("PENDING"));
        assertEquals(JobStatus.State.FINISHED, JobStatus.Slurm.classify("COMPLETED"));
        assertEquals(JobStatus.State.FINISHED, JobStatus.Slurm.classify("CANCELLED+"));
        assertEquals(JobStatus.State.FINISHED, JobStatus.Slurm.classify("COMPLETING"));
        assertEquals(JobStatus.State.UNKNOWN, JobStatus.Slurm.classify(""));
        assertEquals(JobStatus.State.UNKNOWN, JobStatus.slurm().state("local-1234-abc"), "not a Slurm job id");
    }

    @Test
    void stepLiveness_asksJobStatusForSlurmKeys_andThePidForLocalOnes() {
        List<String> asked = new ArrayList<>();
        StepLiveness steps = new StepLiveness(id -> {
            asked.add(id);
            return id.equals("41")
                    ? JobStatus.State.FINISHED
                    : id.equals("42") ? JobStatus.State.ACTIVE : JobStatus.State.UNKNOWN;
        });
        assertFalse(steps.mayRun("c1.41.0"), "finished job");
        assertTrue(steps.mayRun("c1.42.0"), "active job");
        assertTrue(steps.mayRun("c1.43_2.1"), "no clear answer: kept");
        assertTrue(steps.mayRun("odd-key"), "not a step key: kept");
        assertEquals(List.of("41", "42", "43_2"), asked);
        assertTrue(steps.mayRun("local." + Posix.pid() + "-ab12"), "this JVM runs");
        assertFalse(steps.mayRun("local." + Long.MAX_VALUE / 2 + "-ab12"), "no such process");
        String ticks = Processes.startTicks(Posix.pid()).orElseThrow();
        assertTrue(steps.mayRun("local." + Posix.pid() + "-ab12-" + ticks + ".0"), "this JVM, its start time");
        // the soak found it: a muster local run long gone, its PID reused by a later process; sweep kept the step
        assertFalse(
                steps.mayRun("local." + Posix.pid() + "-ab12-" + (Long.parseLong(ticks) - 1) + ".0"),
                "the same PID, started at another time: a later process, the step is gone");
        assertFalse(steps.mayRun("local." + Long.MAX_VALUE / 2 + "-ab12-" + ticks), "no such process");
    }
}
