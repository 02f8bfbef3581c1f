package dev.muster.rendezvous;

import static dev.muster.rendezvous.Conformance.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreTest {
    /** The test process owns its temp dirs; a fake caller keeps the trust rule out of the way here. */
    private static final Caller ME = Caller.self();

    @TempDir
    Path tmp;

    private Store storeAt(Path root, String given, ManualClock clock) {
        return new Store(new CacheDir(given, root, ME), clock);
    }

    private Store store(ManualClock clock) {
        return new Store(new CacheDir(tmp.toString(), ME), clock);
    }

    private static void put(Path root, String name, String file, String text) throws IOException {
        Path dir = root.resolve("rendezvous").resolve(name);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(file), text);
    }

    @Test
    void conformanceFixtures_resolve_withInjectedClock_andTheirOwnCacheDir() throws IOException {
        put(tmp, "model", "latest.json", fixture(Conformance.RUST_101));
        put(tmp, "model-server", "latest.json", fixture(Conformance.BASH_12345));
        ManualClock clock = ManualClock.atEpochSeconds(10 + 59);
        Store s = storeAt(tmp, "/shared/cache", clock);
        assertEquals("http://node-a:8000/v1", s.resolve("model").orElseThrow().url());
        clock.advanceSeconds(1);
        assertEquals(Optional.empty(), s.resolve("model"), "expired at registered_at + ttl");

        Store bash = storeAt(tmp, "/shared/cache/", ManualClock.atEpochSeconds(1767225600L + 3599));
        assertEquals("node07", bash.resolve("model-server").orElseThrow().host());
        assertEquals(
                Optional.empty(),
                storeAt(tmp, "/shared/other", ManualClock.atEpochSeconds(1767225600L))
                        .resolve("model-server"),
                "another cache_dir is not found");
        assertEquals(Optional.empty(), bash.resolve("absent"));
    }

    @Test
    void resolve_futureRegisteredAt_isLive() throws IOException {
        put(tmp, "model", "latest.json", fixture(Conformance.RUST_101));
        assertTrue(storeAt(tmp, "/shared/cache", ManualClock.atEpochSeconds(0))
                .resolve("model")
                .isPresent());
    }

    @Test
    void cacheDir_comparedByComponents_noLinkResolution() {
        CacheDir c = new CacheDir("/a/b", ME);
        assertTrue(c.sameAs("/a/b/"));
        assertTrue(c.sameAs("/a//b"));
        assertTrue(c.sameAs("/a/./b"));
        assertFalse(c.sameAs("a/b"));
        assertFalse(c.sameAs("/a/b/c/.."));
    }

    @Test
    void register_writesHistoryThenLatest_sameBytes_noTempLeft() throws IOException {
        ManualClock clock = ManualClock.atEpochSeconds(100);
        Store s = store(clock);
        Store.Registration reg = s.register("model-server", "42", null, "node01", 8000, "http", null, 300, Map.of());
        Path dir = tmp.resolve("rendezvous/model-server");
        assertEquals(dir.resolve("42-manual.json"), reg.historyFile());
        String latest = Files.readString(dir.resolve("latest.json"));
        assertEquals(latest, Files.readString(reg.historyFile()));
        assertEquals(fixture(Conformance.RUST_42).replace("/shared/cache", tmp.toString()), latest);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(
                    Set.of("42-manual.json", "latest.json"),
                    Set.copyOf(files.map(p -> p.getFileName().toString()).toList()));
        }
    }

    @Test
    void register_historyName_sanitised_andReRegistrationReplacesIt() throws IOException {
        ManualClock clock = ManualClock.atEpochSeconds(100);
        Store s = store(clock);
        s.register("m", "12/34 x", "a b", "h", 1, "http", "/", 60, Map.of());
        clock.advanceSeconds(5);
        Store.Registration again = s.register("m", "12/34 x", "a b", "h", 2, "http", "/", 60, Map.of());
        assertEquals("12_34_x-a_b.json", again.historyFile().getFileName().toString());
        assertTrue(Files.readString(again.historyFile()).contains("\"port\": 2,"));
        try (Stream<Path> files = Files.list(tmp.resolve("rendezvous/m"))) {
            assertEquals(2, files.count());
        }
    }

    @Test
    void register_invalidInput_createsNothing() {
        Store s = store(ManualClock.atEpochSeconds(100));
        Path cache = tmp.resolve("cache");
        Store inCache = new Store(new CacheDir(cache.toString(), ME), ManualClock.atEpochSeconds(100));
        List<Runnable> bad = List.of(
                () -> inCache.register("a/b", "1", null, "h", 1, "http", null, 60, Map.of()),
                () -> inCache.register("..", "1", null, "h", 1, "http", null, 60, Map.of()),
                () -> inCache.register("a\0b", "1", null, "h", 1, "http", null, 60, Map.of()),
                () -> inCache.register("modèle", "1", null, "h", 1, "http", null, 60, Map.of()),
                () -> inCache.register("m", " ", null, "h", 1, "http", null, 60, Map.of()),
                () -> inCache.register("m", "1", null, "", 1, "http", null, 60, Map.of()),
                () -> inCache.register("m", "1", null, "h", 0, "http", null, 60, Map.of()),
                () -> inCache.register("m", "1", null, "h", 1, "", null, 60, Map.of()),
                () -> inCache.register("m", "1", null, "h", 1, "http", null, 0, Map.of()),
                () -> inCache.register("m", "1", null, "h", 1, "http", "v1", 60, Map.of()));
        for (Runnable r : bad) {
            MusterException e = assertThrows(MusterException.class, r::run);
            assertEquals(ExitCodes.USAGE, e.status(), e.getMessage());
            assertFalse(Files.exists(cache), "nothing, not even the cache directory: " + e.getMessage());
        }
        s.register("ok", "1", null, "h", 1, "http", null, 60, Map.of());
        assertThrows(MusterException.class, () -> s.register("m", "1", null, "h", 1, "http", "v1", 60, Map.of()));
        assertFalse(Files.exists(tmp.resolve("rendezvous/m")));
    }

    @Test
    void resolve_readsLatestOnly_neverHistory() throws IOException {
        Store s = store(ManualClock.atEpochSeconds(100));
        s.register("m", "1", null, "h", 1, "http", null, 60, Map.of());
        Files.delete(tmp.resolve("rendezvous/m/latest.json"));
        assertEquals(Optional.empty(), s.resolve("m"));
    }

    @Test
    void hostileLatest_symlink_isRefused_andTargetUntouched() throws IOException {
        Store s = store(ManualClock.atEpochSeconds(100));
        Path dir = Files.createDirectories(tmp.resolve("rendezvous/m"));
        Path target = Files.writeString(tmp.resolve("precious"), "keep me");
        Files.createSymbolicLink(dir.resolve("latest.json"), target);
        assertCorrupt(() -> s.resolve("m"), "symbolic link");
        assertCorrupt(s::list, "symbolic link");
        assertCorrupt(() -> s.register("m", "1", null, "h", 1, "http", null, 60, Map.of()), "symbolic link");
        assertEquals("keep me", Files.readString(target));
        assertTrue(Files.isSymbolicLink(dir.resolve("latest.json")));
        assertFalse(Files.exists(dir.resolve("1-manual.json")), "nothing written when latest is refused");
    }

    @Test
    void hostileLatest_directory_oversized_truncated_badPort() throws IOException {
        ManualClock clock = ManualClock.atEpochSeconds(100);
        Store s = store(clock);
        Files.createDirectories(tmp.resolve("rendezvous/d/latest.json"));
        assertCorrupt(() -> s.resolve("d"), "is a directory, not a regular file");

        byte[] big = new byte[10 * 1024 * 1024];
        Arrays.fill(big, (byte) ' ');
        Files.createDirectories(tmp.resolve("rendezvous/big"));
        Files.write(tmp.resolve("rendezvous/big/latest.json"), big);
        assertCorrupt(() -> s.resolve("big"), "more than a record's 65536");

        String ok = fixture(Conformance.RUST_101).replace("/shared/cache", tmp.toString());
        put(tmp, "cut", "latest.json", ok.substring(0, ok.length() / 2));
        long before = clock.nanoTime();
        assertCorrupt(() -> s.resolve("cut"), "truncated");
        assertTrue(clock.nanoTime() > before, "a short read is retried before it counts as corrupt");

        put(tmp, "port", "latest.json", ok.replace("\"port\": 8000", "\"port\": 70000"));
        assertCorrupt(() -> s.resolve("port"), "above its maximum 65535");
        assertEquals(
                ok.replace("\"port\": 8000", "\"port\": 70000"),
                Files.readString(tmp.resolve("rendezvous/port/latest.json")),
                "nothing lost");
    }

    @Test
    void hostileName_isUsage_andTouchesNothing() {
        Store s = store(ManualClock.atEpochSeconds(100));
        for (String n : List.of("../etc", "a/b", "..", "a\0", "名前")) {
            MusterException e = assertThrows(MusterException.class, () -> s.resolve(n));
            assertEquals(ExitCodes.USAGE, e.status());
        }
        assertFalse(Files.exists(tmp.resolve("rendezvous")));
    }

    @Test
    void symlinkedNameDir_isAnUnusableCache() throws IOException {
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Path cache = tmp.resolve("cache");
        Files.createDirectories(cache.resolve("rendezvous"));
        Files.createSymbolicLink(cache.resolve("rendezvous/m"), elsewhere);
        Store s = new Store(new CacheDir(cache.toString(), ME), ManualClock.atEpochSeconds(100));
        MusterException e = assertThrows(MusterException.class, () -> s.resolve("m"));
        assertEquals(ExitCodes.UNUSABLE_DIR, e.status());
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    }

    @Test
    void list_liveRecordsOfThisCache_sortedByName_corruptFails() throws IOException {
        ManualClock clock = ManualClock.atEpochSeconds(1000);
        Store s = store(clock);
        s.register("zeta", "1", null, "h", 1, "http", null, 60, Map.of());
        s.register("alpha", "2", null, "h", 2, "http", null, 60, Map.of());
        s.register("old", "3", null, "h", 3, "http", null, 10, Map.of());
        put(
                tmp,
                "model",
                "latest.json",
                fixture(Conformance.RUST_101).replace("\"registered_at\": 10", "\"registered_at\": 1000"));
        Files.writeString(tmp.resolve("rendezvous/.stray.tmp"), "x");
        clock.advanceSeconds(20);
        assertEquals(
                List.of("alpha", "zeta"), s.list().stream().map(Record::name).toList());
        put(tmp, "broken", "latest.json", "{");
        assertCorrupt(s::list, "broken");
    }

    @Test
    void prune_removesExpiredOfThisCache_only() throws IOException {
        ManualClock clock = ManualClock.atEpochSeconds(1000);
        Store s = store(clock);
        s.register("gone", "1", "a", "h", 1, "http", null, 10, Map.of());
        s.register("live", "2", null, "h", 1, "http", null, 1000, Map.of());
        put(tmp, "foreign", "latest.json", fixture(Conformance.RUST_101));
        put(tmp, "gone", "junk.json", "not json");
        Files.createDirectories(tmp.resolve("rendezvous/gone/sub.json"));
        clock.advanceSeconds(20);
        List<Path> removed = s.prune();
        assertEquals(
                List.of(tmp.resolve("rendezvous/gone/1-a.json"), tmp.resolve("rendezvous/gone/latest.json")), removed);
        assertTrue(Files.exists(tmp.resolve("rendezvous/gone/junk.json")), "unreadable files are skipped");
        assertTrue(Files.isDirectory(tmp.resolve("rendezvous/gone/sub.json")), "directories are left");
        assertTrue(Files.exists(tmp.resolve("rendezvous/foreign/latest.json")), "another cache's record stays");
        assertTrue(s.resolve("live").isPresent());
        assertEquals(List.of(), s.prune());
    }

    @Test
    void deregister_onlyWhileLatestIsStillThisJobs() {
        ManualClock clock = ManualClock.atEpochSeconds(1000);
        Store s = store(clock);
        s.register("m", "old", null, "h", 1, "http", null, 60, Map.of());
        s.register("m", "new", null, "h", 2, "http", null, 60, Map.of());
        assertEquals(Store.Deregistration.NOT_OURS, s.deregister("m", "old"));
        assertEquals("new", s.resolve("m").orElseThrow().jobId());
        assertEquals(Store.Deregistration.REMOVED, s.deregister("m", "new"));
        assertEquals(Optional.empty(), s.resolve("m"));
        assertTrue(Files.exists(tmp.resolve("rendezvous/m/old-manual.json")), "history stays for prune");
        assertEquals(Store.Deregistration.ABSENT, s.deregister("m", "new"));
    }

    @Test
    void restore_afterClaim_neverReplacesANewerRecord() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("d"));
        Path latest = Files.writeString(dir.resolve("latest.json"), "old");
        Path claimed = RecordFiles.claim(latest).orElseThrow();
        assertFalse(Files.exists(latest));
        assertTrue(claimed.getFileName().toString().startsWith("."));
        assertTrue(claimed.getFileName().toString().endsWith(".tmp"));
        Files.writeString(latest, "newer");
        RecordFiles.restore(claimed, latest);
        assertEquals("newer", Files.readString(latest));
        assertFalse(Files.exists(claimed));

        Path again = RecordFiles.claim(latest).orElseThrow();
        RecordFiles.restore(again, latest);
        assertEquals("newer", Files.readString(latest), "put back when the name is still free");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void createdFiles_followTheProcessUmask() throws IOException {
        Store s = store(ManualClock.atEpochSeconds(100));
        s.register("m", "1", null, "h", 1, "http", null, 60, Map.of());
        int mode = (Integer) Files.getAttribute(tmp.resolve("rendezvous/m/latest.json"), "unix:mode");
        // not forced to 0600 by the writer: a group-shared cache works with umask 002. The file must have
        // exactly what the process umask leaves of 0666, whatever that umask is.
        int expected = 0666 & ~umask();
        assertEquals(
                Integer.toOctalString(expected),
                Integer.toOctalString(mode & 0777),
                "latest.json's mode is 0666 less the umask " + Integer.toOctalString(umask()));
        assertEquals(
                new String(Files.readAllBytes(tmp.resolve("rendezvous/m/latest.json")), StandardCharsets.UTF_8),
                s.latest("m").orElseThrow().toJson());
    }

    /** This process's umask, from /proc/self/status (Linux 4.7+); the test JVM cannot set its own. */
    private static int umask() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Umask:")) {
                return Integer.parseInt(line.substring("Umask:".length()).trim(), 8);
            }
        }
        throw new AssertionError("no Umask line in /proc/self/status");
    }

    @Test
    void trustRule_ownerGroupAndMode() {
        Caller alice = new Caller(1000, Set.of(1000, 500));
        CacheDir.refuseIfUntrusted("d", 1000, 1000, 0777, alice);
        CacheDir.refuseIfUntrusted("d", 2000, 500, 02770, alice);
        CacheDir.refuseIfUntrusted("d", 0, 500, 01777, alice);
        assertUnusable(() -> CacheDir.refuseIfUntrusted("d", 2000, 600, 0750, alice), "not one of your groups");
        assertUnusable(() -> CacheDir.refuseIfUntrusted("d", 2000, 500, 0777, alice), "writable by everyone");
    }

    @Test
    void caller_fromProcStatus() throws IOException {
        Path status = Files.writeString(
                tmp.resolve("status"),
                "Name:\tjava\nUid:\t1000\t1001\t1001\t1001\nGid:\t100\t200\t200\t200\nGroups:\t300 400 \n");
        assertEquals(new Caller(1001, Set.of(200, 300, 400)), Caller.fromStatus(status));
    }

    @Test
    void caller_withoutProc_agreesWithProc() {
        assertEquals(Caller.fromStatus(Path.of("/proc/self/status")), Caller.withoutProc());
    }

    private static void assertCorrupt(Runnable r, String expected) {
        MusterException e = assertThrows(MusterException.class, r::run);
        assertEquals(ExitCodes.CORRUPT, e.status(), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains("latest.json"), "names the file: " + e.getMessage());
    }

    private static void assertUnusable(Runnable r, String expected) {
        MusterException e = assertThrows(MusterException.class, r::run);
        assertEquals(ExitCodes.UNUSABLE_DIR, e.status());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
