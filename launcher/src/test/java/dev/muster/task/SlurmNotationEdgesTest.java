package dev.muster.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Empty and edge inputs of Slurm's list notations, and step keys of unusual shapes. */
class SlurmNotationEdgesTest {
    @Test
    void emptyOrMissingLists_expandToNothing() {
        assertEquals(List.of(), SlurmLists.expandCounts(null));
        assertEquals(List.of(), SlurmLists.expandCounts("  "));
        assertEquals(List.of(), SlurmLists.expandHosts(null));
        assertEquals(List.of(), SlurmLists.expandHosts(""));
    }

    @Test
    void hostList_withoutPrefix_andWithSpaces() {
        assertEquals(List.of("1", "2"), SlurmLists.expandHosts("[1-2]"));
        assertEquals(List.of("a", "b1"), SlurmLists.expandHosts("a, b[1]"));
        assertEquals(List.of(1, 2, 2), SlurmLists.expandCounts("1, 2(x2)"));
    }

    @Test
    void stepKey_withOnlyClusterAndJob_isStillAskedAbout() {
        StepLiveness steps = new StepLiveness(id -> JobStatus.State.FINISHED);
        assertFalse(steps.mayRun("c1.41"));
        assertTrue(steps.mayRun("c1"), "no job part: kept");
    }

    @Test
    void localKey_withAPidBeyondLong_isGone() {
        StepLiveness steps = new StepLiveness(id -> JobStatus.State.ACTIVE);
        assertFalse(steps.mayRun("local.99999999999999999999-ab12"));
    }
}
