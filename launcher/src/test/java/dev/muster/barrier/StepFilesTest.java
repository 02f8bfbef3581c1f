package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The step directory's layout (protocol 1): names, rank names, arrival groups and the fill of a pre-made file. */
class StepFilesTest {
    @TempDir
    Path root;

    private List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void parseRank_acceptsOnlyPlainDecimalNames() {
        assertEquals(0, StepFiles.parseRank("0"));
        assertEquals(7, StepFiles.parseRank("7"));
        assertEquals(10, StepFiles.parseRank("10"));
        assertEquals(999_999_999, StepFiles.parseRank("999999999"));
        for (String foreign : List.of("", "1x", "x1", "-1", "+1", "01", "00", "1 ", ".1", "1.tmp", "1234567890", "٣")) {
            assertEquals(-1, StepFiles.parseRank(foreign), "'" + foreign + "'");
        }
    }

    @Test
    void width_isTheCeilingOfTheSquareRoot() {
        int[][] sizeWidth = {
            {0, 1},
            {1, 1},
            {2, 2},
            {3, 2},
            {4, 2},
            {5, 3},
            {9, 3},
            {10, 4},
            {16, 4},
            {17, 5},
            {1_000_000, 1000},
            {1_000_001, 1001}
        };
        for (int[] sw : sizeWidth) {
            assertEquals(sw[1], StepFiles.width(sw[0]), "size " + sw[0]);
        }
    }

    @Test
    void create_makesOneArrivalGroupPerWidth_andNoMore() throws IOException {
        new StepFiles(root, "four", 4).create(0);
        assertEquals(List.of("0", "1"), names(root.resolve("four/arrival")), "4 ranks, 2 per group");
        new StepFiles(root, "five", 5).create(0);
        assertEquals(List.of("0", "1"), names(root.resolve("five/arrival")), "5 ranks, 3 per group");
        new StepFiles(root, "ten", 10).create(0);
        assertEquals(List.of("0", "1", "2"), names(root.resolve("ten/arrival")), "10 ranks, 4 per group");
        assertEquals(
                List.of("arrival", "departure", "endpoint", "outcome"), names(root.resolve("ten")), "the step's files");
    }

    @Test
    void create_byAnotherRank_makesNoGroups_andLeavesNothingOpen() throws IOException {
        StepFiles f = new StepFiles(root, "k", 4);
        f.create(2);
        assertEquals(List.of(), names(f.arrivalDir), "only rank 0 makes every group");
        assertEquals(0, Files.size(f.outcomeFile));
        assertEquals(0, Files.size(f.endpointFile));
        assertEquals(0, Descriptors.under(root.toRealPath()), "the empty files are closed once made");
        f.create(0); // a second task finds them made
        assertEquals(0, Descriptors.under(root.toRealPath()));
    }

    @Test
    void names_followTheLayout() {
        StepFiles f = new StepFiles(root, "k", 10);
        Path step = root.resolve("k");
        assertEquals(step.resolve("arrival/1/7"), f.arrivalFile(7), "group 7 / 4");
        assertEquals(step.resolve("departure/7"), f.departure(7));
        assertEquals(step.resolve("claim"), f.claim());
        assertEquals(step + "/.claim.3.4242.", f.claimTempPrefix(3, 4242));
        assertEquals(Path.of(step + "/.claim.3.4242.ff"), f.claimTemp(3, 4242, 255));
        assertEquals(root.resolve("k.gone.99"), StepFiles.gone(step, 99));
    }

    @Test
    void writeArrival_makesItsGroup_andListingSeesOnlyRanksOfEachGroup() throws IOException {
        StepFiles f = new StepFiles(root, "k", 5); // width 3: groups 0 (0-2) and 1 (3-4)
        f.create(1);
        f.writeArrival(4, "host=a\n".getBytes(StandardCharsets.UTF_8));
        f.writeArrival(1, "host=b\n".getBytes(StandardCharsets.UTF_8));
        assertEquals("host=a\n", Files.readString(f.arrivalFile(4)));
        // foreign names, and a rank filed in the wrong group, count for nobody
        Files.writeString(f.arrivalDir.resolve("0/4"), "");
        Files.writeString(f.arrivalDir.resolve("1/2"), "");
        Files.writeString(f.arrivalDir.resolve("1/03"), "");
        BitSet seen = f.listArrivals(new BitSet(), false);
        assertEquals(BitSet.valueOf(new long[] {0b10010}), seen, "ranks 1 and 4");
        f.writeArrival(4, "host=c\n".getBytes(StandardCharsets.UTF_8));
        assertEquals("host=c\n", Files.readString(f.arrivalFile(4)), "written again, replaced whole");
    }

    @Test
    void countRanks_countsRankNamesOnly() throws IOException {
        Path d = Files.createDirectory(root.resolve("d"));
        for (String n : List.of("0", "1", "12", "01", "x", ".1", "-2")) {
            Files.createFile(d.resolve(n));
        }
        assertEquals(3, StepFiles.countRanks(d));
    }

    @Test
    void fill_writesTheWholeContentInPlace() throws IOException {
        Path file = Files.createFile(root.resolve("outcome"));
        Object inode = Files.getAttribute(file, "unix:ino");
        byte[] big = new byte[3 * 8192 + 5];
        java.util.Arrays.fill(big, (byte) 'x');
        StepFiles.fill(file, big);
        assertArrayEquals(big, Files.readAllBytes(file));
        assertEquals(inode, Files.getAttribute(file, "unix:ino"), "the same file, not a replacement");
    }
}
