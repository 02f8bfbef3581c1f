package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Store operations leave nothing behind (no claimed or temp files), refuse what they must, skip strays. */
class StoreHousekeepingTest {
    @TempDir
    Path tmp;

    private final ManualClock clock = ManualClock.atEpochSeconds(1000);

    private Store store() {
        return new Store(new CacheDir(tmp.toString(), Caller.self()), clock);
    }

    private List<String> filesOf(String name) throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve("rendezvous").resolve(name))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void deregister_removesLatest_leavesOnlyHistory_noClaimedFile() throws IOException {
        store().register("a", "7", "svc", "n1", 80, "http", "/", 60, Map.of());
        assertEquals(Store.Deregistration.REMOVED, store().deregister("a", "7"));
        assertEquals(List.of("7-svc.json"), filesOf("a"));
        assertEquals(Store.Deregistration.ABSENT, store().deregister("a", "7"));
    }

    @Test
    void prune_removesExpiredFiles_withoutLeavingClaimedCopies() throws IOException {
        store().register("a", "7", null, "n1", 80, "http", "/", 60, Map.of());
        clock.advanceSeconds(61);
        List<Path> removed = store().prune();
        assertEquals(2, removed.size(), removed.toString());
        assertEquals(List.of(), filesOf("a"));
    }

    @Test
    void register_refusesALinkInPlaceOfTheHistoryFile() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("rendezvous/a"));
        Path target = Files.writeString(tmp.resolve("target"), "keep");
        Files.createSymbolicLink(dir.resolve("7-manual.json"), target);
        MusterException e = assertThrows(
                MusterException.class, () -> store().register("a", "7", null, "n1", 80, "http", "/", 60, Map.of()));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertEquals("keep", Files.readString(target));
        assertTrue(Files.notExists(dir.resolve("latest.json")));
    }

    @Test
    void latestAndDeregister_refuseAnInvalidName() {
        for (String bad : List.of("..", "a/b")) {
            assertEquals(
                    ExitCodes.USAGE,
                    assertThrows(MusterException.class, () -> store().latest(bad))
                            .status());
            assertEquals(
                    ExitCodes.USAGE,
                    assertThrows(MusterException.class, () -> store().deregister(bad, "7"))
                            .status());
        }
    }

    @Test
    void list_skipsStrayPlainFilesAndHiddenEntries_underRendezvous() throws IOException {
        store().register("b", "7", null, "n1", 80, "http", "/", 60, Map.of());
        store().register("a", "7", null, "n1", 81, "http", "/", 60, Map.of());
        Files.writeString(tmp.resolve("rendezvous/stray"), "not a record");
        Files.createDirectory(tmp.resolve("rendezvous/.hidden"));
        assertEquals(
                List.of("a", "b"), store().list().stream().map(Record::name).toList());
        assertEquals(List.of(), store().prune());
    }
}
