package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The roster's fan-out (docs/roster.md#fan-out): rank 0's choice of transport, and the node-local file. */
class RosterRelayTest {
    private static final long MIB = 1L << 20;

    @TempDir
    Path root;

    @Test
    void via_withoutTcp_isAlwaysTheFile() {
        assertEquals("file", RosterRelay.via(false, 2, 1, 0));
    }

    @Test
    void via_streamsToEveryTask_upToTheBudgetForAll() {
        assertEquals("tcp", RosterRelay.via(true, 2, RosterRelay.ALL_BUDGET, 0), "1 MiB to one task");
        assertEquals("tcp", RosterRelay.via(true, 5, RosterRelay.ALL_BUDGET / 4, 0), "1 MiB to four tasks");
        assertEquals(RosterRelay.NODE, RosterRelay.via(true, 5, RosterRelay.ALL_BUDGET / 4 + 1, 0), "just over");
    }

    @Test
    void via_everyTaskAloneOnItsNode_streamsWithinTheStreamBudget() {
        // 3 tasks on 3 nodes: 2 leaders, 2 MiB to stream in all
        assertEquals("tcp", RosterRelay.via(true, 3, MIB, 2));
        // over the stream budget: 2 * 33 MiB; no node has two tasks, so only the file is left
        assertEquals("file", RosterRelay.via(true, 3, 33 * MIB, 2));
        // one node holds two tasks (one leader for 2 others): the node fan-out
        assertEquals(RosterRelay.NODE, RosterRelay.via(true, 3, MIB, 1));
    }

    @Test
    void via_toNodeLeaders_upToTheNodeBudget() {
        assertEquals(RosterRelay.NODE, RosterRelay.via(true, 10, RosterRelay.NODE_BUDGET / 2, 2), "256 MiB exactly");
        assertEquals("file", RosterRelay.via(true, 10, RosterRelay.NODE_BUDGET / 2 + 1, 2), "just over");
        assertEquals("file", RosterRelay.via(true, 10, 200 * MIB, 2), "400 MiB to two leaders");
    }

    @Test
    void leaders_areTheLowestRankOfEveryOtherNode() {
        Card[] cards = new Card[6];
        String[] nodes = {"a", "a", "b", "", "b", "c"};
        for (int r = 0; r < cards.length; r++) {
            cards[r] = Card.minimal(r, nodes[r], r);
        }
        BitSet expected = new BitSet();
        expected.set(2);
        expected.set(5);
        assertEquals(expected, RosterRelay.leaders(cards));
    }

    @Test
    void prefix_namesStepAndNode_safelyForAFileName() {
        String p = RosterRelay.prefix(root.resolve("job 1"), "n/1");
        assertTrue(p.startsWith("job_1-") && p.endsWith("@n_1."), p);
        assertTrue(!p.equals(RosterRelay.prefix(root.resolve("x").resolve("job 1"), "n/1")), "another step dir");
    }

    @Test
    void write_thenRead_givesTheLeadersBytes_atOnce() throws Exception {
        Path nodeDir = root.resolve("node");
        String prefix = RosterRelay.prefix(root.resolve("step"), "n1");
        byte[] json = "{\"ranks\":[]}".getBytes(StandardCharsets.UTF_8);
        Path written = RosterRelay.write(nodeDir, prefix, json);
        assertEquals(nodeDir.resolve(prefix + ProcessHandle.current().pid() + ".json"), written);
        assertArrayEquals(json, Files.readAllBytes(written));
        assertEquals(List.of(written.getFileName().toString()), list(nodeDir), "no temp file left");
        ManualClock clock = new ManualClock();
        assertArrayEquals(json, RosterRelay.read(nodeDir, prefix, json.length, clock));
        assertEquals(0, clock.elapsedMillis());
    }

    @Test
    void write_whereNoDirectoryCanBeMade_returnsNull() throws IOException {
        Path file = Files.writeString(root.resolve("plain"), "");
        assertNull(RosterRelay.write(file.resolve("node"), "p.", new byte[1]));
    }

    @Test
    void read_waitsForTheLeadersFile_withGrowingPauses() throws Exception {
        Path nodeDir = Files.createDirectory(root.resolve("node"));
        String prefix = RosterRelay.prefix(root.resolve("step"), "n1");
        byte[] json = "[1,2,3]".getBytes(StandardCharsets.UTF_8);
        ManualClock clock = new ManualClock();
        // another step's file and a file still short of the size the release names: not this roster
        Files.write(nodeDir.resolve(RosterRelay.prefix(root.resolve("other"), "n1") + "1.json"), json);
        clock.at(500, () -> write(nodeDir.resolve(prefix + "2.json"), "[1,".getBytes(StandardCharsets.UTF_8)));
        clock.at(1000, () -> write(nodeDir.resolve(prefix + "2.json"), json));
        assertArrayEquals(json, RosterRelay.read(nodeDir, prefix, json.length, clock));
        List<Long> ms = new ArrayList<>();
        for (long s : clock.sleeps()) {
            ms.add(s / 1_000_000L);
        }
        assertEquals(List.of(2L, 4L, 8L, 16L, 32L, 64L, 100L), ms.subList(0, 7));
        assertTrue(clock.elapsedMillis() >= 1000 && clock.elapsedMillis() < 1100, clock.elapsedMillis() + " ms");
    }

    @Test
    void read_withoutTheLeadersFile_givesUpAfterNodeWait() throws Exception {
        ManualClock clock = new ManualClock();
        assertNull(RosterRelay.read(root.resolve("none"), "p.", 3, clock));
        long waited = clock.elapsedMillis();
        long bound = RosterRelay.NODE_WAIT_NANOS / 1_000_000L;
        assertTrue(waited >= bound && waited < bound + 100, waited + " ms");
    }

    private static void write(Path p, byte[] b) {
        try {
            Files.write(p, b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> list(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
