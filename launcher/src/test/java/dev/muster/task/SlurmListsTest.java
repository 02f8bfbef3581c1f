package dev.muster.task;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SlurmListsTest {
    @Test
    void counts_expandRepeats() {
        assertEquals(List.of(2, 2, 2, 1), SlurmLists.expandCounts("2(x3),1"));
        assertEquals(List.of(5, 1, 1, 1), SlurmLists.expandCounts("5,1(x3)"));
    }

    @Test
    void hosts_expandRangesAndKeepPadding() {
        assertEquals(List.of("n1", "n2", "n3", "n05", "login"), SlurmLists.expandHosts("n[1-3,05],login"));
        assertEquals(List.of("a1-b", "a2-b"), SlurmLists.expandHosts("a[1-2]-b"));
    }
}
