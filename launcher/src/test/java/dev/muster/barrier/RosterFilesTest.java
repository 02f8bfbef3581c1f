package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The roster's files in the step directory (docs/roster.md): rank 0 gathers the cards (hello first, else the arrival
 * file, else what the file's diagnostic line tells) and writes the roster file; every task reads it back. On a
 * manual clock, so that the waits for an incomplete file cost nothing.
 */
class RosterFilesTest {
    @TempDir
    Path root;

    private StepFiles files;
    private final ManualClock clock = new ManualClock();
    private final Card own = new Card(0, "n0", 100, 0, "", "", Map.of(), Map.of());

    @BeforeEach
    void step() throws IOException {
        files = new StepFiles(root, "k", 2);
        files.create(0);
    }

    private void arrivalOf1(String content) throws IOException {
        files.writeArrival(1, content.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] card1(String node) {
        return new Card(1, node, 101, 0, "", "", Map.of(), Map.of()).encode();
    }

    /** Rank 0's release data with the roster; the JSON in {@code json[0]}. */
    private Map<String, String> gather(IntFunction<byte[]> hellos, boolean tcp, boolean allConnected, byte[][] json) {
        return RosterFiles.addRoster(
                files, Map.of(Roster.WANTED, "1", "x", "y"), own, hellos, tcp, allConnected, clock, json, new BitSet());
    }

    /** What rank 0 warned of while it gathered the cards. */
    private String warnings = "";

    private String rank1InRoster() {
        byte[][] json = new byte[1][];
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        dev.muster.core.Log.to(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            gather(null, false, false, json);
        } finally {
            dev.muster.core.Log.to(System.err);
        }
        warnings = err.toString(StandardCharsets.UTF_8);
        String s = new String(json[0], StandardCharsets.UTF_8);
        return s.substring(s.indexOf("{\"rank\":1"));
    }

    @Test
    void withoutWanted_theDataIsLeftAlone() {
        Map<String, String> data = Map.of("x", "y");
        assertEquals(data, RosterFiles.addRoster(files, data, own, null, true, true, clock, new byte[1][], null));
        assertFalse(Files.exists(files.dir.resolve(RosterFiles.ROSTER)));
    }

    @Test
    void helloCard_winsOverTheArrivalFile_andAllConnectedOverTcpNeedsNoRosterFile() throws IOException {
        arrivalOf1("host=h1 pid=101 time=t\n" + new String(card1("from-file"), StandardCharsets.UTF_8) + "end\n");
        byte[][] json = new byte[1][];
        Map<String, String> out = gather(r -> card1("from-hello"), true, true, json);
        String s = new String(json[0], StandardCharsets.UTF_8);
        assertTrue(s.contains("\"node\":\"from-hello\""), s);
        assertEquals(Map.of("x", "y", Roster.BYTES, Integer.toString(json[0].length), Roster.VIA, "tcp"), out);
        assertFalse(Files.exists(files.dir.resolve(RosterFiles.ROSTER)), "streamed to everybody");
    }

    @Test
    void badHelloCard_fallsBackToTheArrivalFile_andTheRosterFileIsWritten() throws IOException {
        arrivalOf1("host=h1 pid=101 time=t\n" + new String(card1("from-file"), StandardCharsets.UTF_8) + "end\n");
        byte[][] json = new byte[1][];
        Map<String, String> out =
                gather(r -> new Card(2, "wrong", 1, 0, "", "", Map.of(), Map.of()).encode(), true, false, json);
        String s = new String(json[0], StandardCharsets.UTF_8);
        assertTrue(s.contains("\"node\":\"from-file\""), s);
        assertEquals("tcp", out.get(Roster.VIA));
        assertArrayEquals(json[0], Files.readAllBytes(files.dir.resolve(RosterFiles.ROSTER)));
        assertEquals(0, clock.elapsedMillis(), "a complete arrival file is read at once");
    }

    @Test
    void arrivalFileWithoutCard_givesNodeAndPidOfItsDiagnosticLine() throws IOException {
        arrivalOf1("host=h1 pid=4242 time=t\n");
        String r1 = rank1InRoster();
        assertTrue(r1.startsWith("{\"rank\":1,\"node\":\"h1\",\"pid\":4242,"), r1);
    }

    @Test
    void malformedCard_givesNodeAndPidOfItsDiagnosticLine() throws IOException {
        arrivalOf1("host=h1 pid=x time=t\nrank=1\nport.p=99999\nend\n");
        String r1 = rank1InRoster();
        assertTrue(r1.startsWith("{\"rank\":1,\"node\":\"h1\",\"pid\":0,"), r1);
        assertEquals(0, clock.elapsedMillis());
        assertTrue(
                warnings.contains("rank 1's card in " + files.arrivalFile(1) + " is malformed (bad port p): the roster "
                        + "names only its node"),
                warnings);
    }

    @Test
    void incompleteArrivalFile_isReadAgain_untilItIsComplete() throws IOException {
        arrivalOf1("host=h1 pid=5 time=t\nrank=1\n");
        clock.at(3000, () -> {
            try {
                arrivalOf1("host=h1 pid=5 time=t\n" + new String(card1("late"), StandardCharsets.UTF_8) + "end\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String r1 = rank1InRoster();
        assertTrue(r1.contains("\"node\":\"late\""), r1);
        assertEquals(3000, clock.elapsedMillis(), "read again every 10 ms");
    }

    @Test
    void arrivalFileThatStaysIncomplete_namesOnlyTheRank_atTheBound() throws IOException {
        // a file whose first line is empty has no diagnostic line: it is not complete, whatever follows
        arrivalOf1("\n" + new String(card1("no-line"), StandardCharsets.UTF_8) + "end\n");
        String r1 = rank1InRoster();
        assertTrue(r1.startsWith("{\"rank\":1,\"node\":\"\",\"pid\":0,"), r1);
        assertEquals(RosterFiles.INCOMPLETE_NANOS / 1_000_000, clock.elapsedMillis());
        assertTrue(
                warnings.contains("rank 1's arrival file " + files.arrivalFile(1) + " stayed incomplete: the roster "
                        + "names only its rank"),
                warnings);
    }

    /** A clock whose first sleep is interrupted. */
    private static final Clock INTERRUPTED = new dev.muster.testing.ManualClock().interruptingSleep();

    @Test
    void interruptedWhileAnArrivalFileIsIncomplete_namesOnlyTheRank_andKeepsTheInterrupt() throws IOException {
        arrivalOf1("");
        byte[][] json = new byte[1][];
        try {
            RosterFiles.addRoster(files, Map.of(Roster.WANTED, "1"), own, null, false, false, INTERRUPTED, json, null);
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
        String s = new String(json[0], StandardCharsets.UTF_8);
        assertTrue(s.contains("{\"rank\":1,\"node\":\"\",\"pid\":0,"), s);
    }

    private static Outcome releaseNaming(long bytes) {
        return Outcome.release(0, Map.of(Roster.BYTES, Long.toString(bytes)));
    }

    @Test
    void read_givesTheRosterFile_onceItHasTheBytesTheReleaseNames() throws IOException {
        byte[] json = "[\"roster\"]".getBytes(StandardCharsets.UTF_8);
        Files.write(files.dir.resolve(RosterFiles.ROSTER), "[".getBytes(StandardCharsets.UTF_8));
        clock.at(1000, () -> RosterFiles.write(files, json));
        assertArrayEquals(json, RosterFiles.read(files, releaseNaming(json.length), clock));
        assertEquals(1000, clock.elapsedMillis());
        assertEquals(null, RosterFiles.read(files, Outcome.release(0, Map.of()), clock), "no roster named");
    }

    @Test
    void read_ofARosterNeverWritten_failsAtTheBound() {
        MusterException e = assertThrows(
                MusterException.class, () -> RosterFiles.read(files, releaseNaming(Roster.MAX_BYTES), clock));
        assertTrue(
                e.getMessage().startsWith("cannot read the roster file " + files.dir.resolve(RosterFiles.ROSTER)),
                e.getMessage());
        assertTrue(e.getMessage().contains("NoSuchFileException"), e.getMessage());
        assertEquals(RosterFiles.INCOMPLETE_NANOS / 1_000_000, clock.elapsedMillis());
    }

    @Test
    void read_ofARosterOverTheLimit_isRefusedAtOnce() {
        MusterException e = assertThrows(
                MusterException.class, () -> RosterFiles.read(files, releaseNaming(Roster.MAX_BYTES + 1L), clock));
        assertTrue(e.getMessage().contains("more than " + Roster.MAX_BYTES), e.getMessage());
        assertEquals(0, clock.elapsedMillis());
    }

    @Test
    void read_interrupted_fails_andKeepsTheInterrupt() {
        try {
            MusterException e =
                    assertThrows(MusterException.class, () -> RosterFiles.read(files, releaseNaming(3), INTERRUPTED));
            assertTrue(e.getMessage().startsWith("cannot read the roster file"), e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }
}
