package dev.muster.rendezvous;

import static dev.muster.rendezvous.Conformance.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Record files on disk: the 64 KiB bound at its edge, what is not a record file (link, directory, FIFO, not
 * UTF-8, cut short for good), the retry pauses for a short read, atomic writes, and claim/restore.
 */
class RecordFilesTest {
    private static final String OK = fixture(Conformance.RUST_101);

    @TempDir
    Path tmp;

    private static String corrupt(Path file) {
        MusterException e = assertThrows(MusterException.class, () -> RecordFiles.read(file, new ManualClock()));
        assertEquals(ExitCodes.CORRUPT, e.status());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void read_missingFile_isEmpty() {
        assertEquals(Optional.empty(), RecordFiles.read(tmp.resolve("latest.json"), new ManualClock()));
    }

    @Test
    void read_exactly64KiB_isARecord_oneByteMoreIsRefused() throws IOException {
        Path f = tmp.resolve("latest.json");
        Files.writeString(f, OK + " ".repeat(RecordFiles.MAX_BYTES - OK.length()));
        assertEquals(RecordFiles.MAX_BYTES, Files.size(f));
        assertEquals(
                "model", RecordFiles.read(f, new ManualClock()).orElseThrow().name());
        Files.writeString(f, OK + " ".repeat(RecordFiles.MAX_BYTES + 1 - OK.length()));
        assertTrue(corrupt(f).contains("has 65537 bytes, more than a record's 65536"), corrupt(f));
    }

    @Test
    void read_linkDirectoryFifoAndNonUtf8_areRefusedSayingWhat() throws Exception {
        Path target = Files.writeString(tmp.resolve("real.json"), OK);
        Path link = Files.createSymbolicLink(tmp.resolve("link.json"), target);
        assertTrue(corrupt(link).contains("is a symbolic link"), corrupt(link));
        Path dir = Files.createDirectory(tmp.resolve("dir.json"));
        assertTrue(corrupt(dir).endsWith("is a directory, not a regular file; remove it"), corrupt(dir));
        Path fifo = tmp.resolve("fifo.json");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertTrue(
                corrupt(fifo).contains("FIFO") && corrupt(fifo).endsWith("not a regular file; remove it"),
                corrupt(fifo));
        Path binary = Files.write(tmp.resolve("bin.json"), new byte[] {'{', (byte) 0xff, '}'});
        assertTrue(corrupt(binary).contains("is not UTF-8 text"), corrupt(binary));
    }

    @Test
    void read_cutShortForGood_isRetriedWithGrowingPauses_thenTruncated() throws IOException {
        Path f = Files.writeString(tmp.resolve("latest.json"), OK.substring(0, 50));
        ManualClock clock = new ManualClock();
        MusterException e = assertThrows(MusterException.class, () -> RecordFiles.read(f, clock));
        assertEquals(ExitCodes.CORRUPT, e.status());
        assertTrue(e.getMessage().contains("is truncated"), e.getMessage());
        assertEquals(List.of(10_000_000L, 20_000_000L, 40_000_000L, 80_000_000L), clock.sleeps());
    }

    @Test
    void read_shortReadThatCompletes_isTheRecord() throws IOException {
        Path f = Files.writeString(tmp.resolve("latest.json"), OK.substring(0, 50));
        ManualClock clock = new ManualClock();
        clock.at(0, () -> {
            try {
                Files.writeString(f, OK);
            } catch (IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
        });
        assertEquals("model", RecordFiles.read(f, clock).orElseThrow().name());
        assertEquals(1, clock.sleeps().size());
    }

    @Test
    void refuseNonRegularTarget_allowsMissingAndPlainFiles_refusesLinksAndDirectories() throws IOException {
        RecordFiles.refuseNonRegularTarget(tmp.resolve("none.json"));
        Path plain = Files.writeString(tmp.resolve("plain.json"), OK);
        RecordFiles.refuseNonRegularTarget(plain);
        Path link = Files.createSymbolicLink(tmp.resolve("link.json"), plain);
        assertTrue(assertThrows(MusterException.class, () -> RecordFiles.refuseNonRegularTarget(link))
                .getMessage()
                .contains("symbolic link"));
        Path dir = Files.createDirectory(tmp.resolve("dir.json"));
        MusterException e = assertThrows(MusterException.class, () -> RecordFiles.refuseNonRegularTarget(dir));
        assertEquals(ExitCodes.CORRUPT, e.status());
        assertTrue(e.getMessage().contains("is not a regular file but a directory"), e.getMessage());
    }

    @Test
    void writeAtomically_leavesExactlyTheBytes_andNoTempFile() throws IOException {
        Path f = tmp.resolve("latest.json");
        byte[] bytes = OK.getBytes(StandardCharsets.UTF_8);
        RecordFiles.writeAtomically(f, bytes);
        RecordFiles.writeAtomically(f, bytes);
        assertArrayEquals(bytes, Files.readAllBytes(f));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(f), s.toList());
        }
        MusterException e = assertThrows(
                MusterException.class, () -> RecordFiles.writeAtomically(tmp.resolve("gone/latest.json"), bytes));
        assertEquals(ExitCodes.UNUSABLE_DIR, e.status());
        assertTrue(e.getMessage().startsWith("cannot write " + tmp.resolve("gone/latest.json")), e.getMessage());
    }

    @Test
    void tempNames_areHiddenUniqueAndCarryThePid() {
        Path a = RecordFiles.tempName(tmp, "latest.json", "tmp");
        Path b = RecordFiles.tempName(tmp, "latest.json", "tmp");
        assertFalse(a.equals(b));
        String n = a.getFileName().toString();
        assertTrue(n.startsWith(".latest.json.") && n.endsWith("." + Posix.pid() + ".tmp"), n);
        assertEquals(tmp, a.getParent());
    }

    @Test
    void claim_movesTheFileOutOfView_restore_putsItBackOnlyWhileTheNameIsFree() throws IOException {
        Path f = Files.writeString(tmp.resolve("latest.json"), "old");
        Path claimed = RecordFiles.claim(f).orElseThrow();
        assertFalse(Files.exists(f));
        assertTrue(claimed.getFileName().toString().startsWith(".latest.json."));
        assertTrue(claimed.getFileName().toString().endsWith(".claim.tmp"));
        assertEquals("old", Files.readString(claimed));
        RecordFiles.restore(claimed, f);
        assertEquals("old", Files.readString(f));
        assertFalse(Files.exists(claimed));

        Path again = RecordFiles.claim(f).orElseThrow();
        Files.writeString(f, "newer");
        RecordFiles.restore(again, f);
        assertEquals("newer", Files.readString(f));
        assertFalse(Files.exists(again), "the claimed copy is dropped");
        assertEquals(Optional.empty(), RecordFiles.claim(tmp.resolve("none.json")));
    }
}
