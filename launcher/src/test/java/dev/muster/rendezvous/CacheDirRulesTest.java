package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Which cache directory a command uses and why, path comparison, the owner rule's edges, and its messages. */
class CacheDirRulesTest {
    @TempDir
    Path tmp;

    @Test
    void choose_flagThenMusterCacheDirThenCacheDirThenHome_skippingEmptyValues() {
        Map<String, String> all = Map.of("MUSTER_CACHE_DIR", "/m", "CACHE_DIR", "/c", "HOME", "/h");
        assertEquals("/f", CacheDir.choose("/f", all));
        assertEquals("--cache-dir", CacheDir.source("/f", all));
        assertEquals("/m", CacheDir.choose("", all));
        assertEquals("MUSTER_CACHE_DIR", CacheDir.source(null, all));
        Map<String, String> seed = Map.of("MUSTER_CACHE_DIR", "", "CACHE_DIR", "/c", "HOME", "/h");
        assertEquals("/c", CacheDir.choose(null, seed));
        assertEquals("CACHE_DIR", CacheDir.source(null, seed));
        Map<String, String> home = Map.of("CACHE_DIR", "", "HOME", "/h");
        assertEquals("/h/.cache/muster", CacheDir.choose(null, home));
        assertEquals("default", CacheDir.source(null, home));
        assertEquals(System.getProperty("user.home") + "/.cache/muster", CacheDir.choose(null, Map.of("HOME", "")));
        assertEquals(System.getProperty("user.home") + "/.cache/muster", CacheDir.choose(null, Map.of()));
    }

    @Test
    void components_ignoreEmptyAndDotParts_keepTheRoot() {
        assertEquals(List.of("/", "a", "b"), CacheDir.components("/a//./b/"));
        assertEquals(List.of("a", "b"), CacheDir.components("a/b"));
        CacheDir c = new CacheDir("/a/b", tmp, Caller.self());
        assertTrue(c.sameAs("/a/./b//"));
        assertFalse(c.sameAs("a/b"), "relative is not absolute");
        assertFalse(c.sameAs("/a/b/c"));
    }

    @Test
    void emptyOrNulCacheDir_isAUsageError() {
        for (String bad : new String[] {"", null, "/a\0b", "\0/a"}) {
            MusterException e = assertThrows(MusterException.class, () -> new CacheDir(bad, Caller.self()));
            assertEquals(ExitCodes.USAGE, e.status());
        }
    }

    @Test
    void ownerRule_worldWritableNeedsTheStickyBit_onlyForOthersDirectories() {
        Caller alice = new Caller(1000, Set.of(1000, 500));
        CacheDir.refuseIfUntrusted("d", 2000, 500, 0775, alice);
        CacheDir.refuseIfUntrusted("d", 2000, 500, 01777, alice);
        CacheDir.refuseIfUntrusted("d", 2000, 500, 0770, alice);
        MusterException e =
                assertThrows(MusterException.class, () -> CacheDir.refuseIfUntrusted("d", 2000, 500, 040777, alice));
        assertEquals(ExitCodes.UNUSABLE_DIR, e.status());
        assertTrue(e.getMessage().contains("(mode 0777)"), e.getMessage());
        assertTrue(assertThrows(MusterException.class, () -> CacheDir.refuseIfUntrusted("d", 2000, 500, 0002, alice))
                .getMessage()
                .contains("writable by everyone"));
        assertTrue(assertThrows(MusterException.class, () -> CacheDir.refuseIfUntrusted("d", 2000, 600, 01777, alice))
                .getMessage()
                .contains("belongs to uid 2000 and group 600, which is not one of your groups"));
    }

    @Test
    void reason_namesTheCommonFailuresInWords() {
        assertEquals("permission denied", CacheDir.reason(new AccessDeniedException("/x")));
        assertEquals("no such file or directory", CacheDir.reason(new NoSuchFileException("/x")));
        assertEquals("a file of that name is in the way", CacheDir.reason(new FileAlreadyExistsException("/x")));
        assertEquals("/x: busy", CacheDir.reason(new FileSystemException("/x", null, "busy")));
        assertEquals("IOException", CacheDir.reason(new IOException()));
    }

    @Test
    void create_makesTheCacheAndSubdirectories_andRefusesAFileInTheWay() throws IOException {
        CacheDir c = new CacheDir(tmp.resolve("cache").toString(), Caller.self());
        assertFalse(c.checkIfPresent());
        c.create(c.rendezvousDir(), c.rendezvousDir().resolve("n"));
        assertTrue(Files.isDirectory(c.rendezvousDir().resolve("n")));
        assertTrue(c.checkIfPresent());
        c.create(c.rendezvousDir());
        Files.writeString(c.rendezvousDir().resolve("f"), "x");
        MusterException e = assertThrows(
                MusterException.class, () -> c.create(c.rendezvousDir().resolve("f")));
        assertEquals(ExitCodes.UNUSABLE_DIR, e.status());
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
        assertFalse(c.checkSubIfPresent(c.rendezvousDir().resolve("none")));
    }

    @Test
    void create_refusesALinkedSubdirectory_namingTheLink_butFollowsALinkedCacheDirectory() throws IOException {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Files.createSymbolicLink(tmp.resolve("cache"), real);
        CacheDir c = new CacheDir(tmp.resolve("cache").toString(), Caller.self());
        c.create(c.rendezvousDir());
        Files.createSymbolicLink(c.rendezvousDir().resolve("n"), Files.createDirectory(tmp.resolve("elsewhere")));
        for (Executable use : new Executable[] {
            () -> c.create(c.rendezvousDir(), c.rendezvousDir().resolve("n")),
            () -> c.checkSubIfPresent(c.rendezvousDir().resolve("n"))
        }) {
            MusterException e = assertThrows(MusterException.class, use);
            assertEquals(ExitCodes.UNUSABLE_DIR, e.status());
            assertTrue(e.getMessage().contains("n is a symbolic link; muster follows none"), e.getMessage());
        }
    }
}
