package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the step directories live (flag, MUSTER_SYNC_DIR, the Sarus seed's HOOK_BASE_DIR, HOME) and the checks
 * on what muster creates there. The refusal of another user's directory runs as another user in
 * {@code SyncRootPermissionIT}.
 */
class SyncRootTest {
    @TempDir
    Path tmp;

    @Test
    void resolve_flagThenMusterSyncDirThenHookBaseDirThenHome() {
        Map<String, String> all = Map.of(
                "MUSTER_SYNC_DIR", "/m/s",
                "HOOK_BASE_DIR", "/hooks",
                "USER", "alice",
                "HOME", "/home/alice");
        assertEquals(new SyncRoot(Path.of("/f/x"), "--sync-dir"), SyncRoot.resolve("/f/./y/../x/", all));
        assertEquals(new SyncRoot(Path.of("/m/s"), "MUSTER_SYNC_DIR"), SyncRoot.resolve(null, all));
        Map<String, String> hook = Map.of("MUSTER_SYNC_DIR", "", "HOOK_BASE_DIR", "/hooks", "USER", "alice");
        assertEquals(
                new SyncRoot(Path.of("/hooks/alice/.oci-hooks/slurm-global-sync"), "HOOK_BASE_DIR"),
                SyncRoot.resolve(null, hook));
        assertEquals(
                new SyncRoot(Path.of("/home/alice/.muster/sync"), "HOME"),
                SyncRoot.resolve(null, Map.of("HOOK_BASE_DIR", "", "HOME", "/home/alice")));
        assertEquals(
                Path.of(System.getProperty("user.home"), ".muster", "sync"),
                SyncRoot.resolve(null, Map.of()).path());
        assertEquals(
                Path.of("/hooks", System.getProperty("user.name"), ".oci-hooks", "slurm-global-sync"),
                SyncRoot.resolve(null, Map.of("HOOK_BASE_DIR", "/hooks")).path());
    }

    @Test
    void resolve_relativeFlag_isMadeAbsolute_blankOrRelativeBaseIsAUsageError() {
        assertEquals(
                Path.of("rel").toAbsolutePath(),
                SyncRoot.resolve("rel", Map.of()).path());
        MusterException blank = assertThrows(MusterException.class, () -> SyncRoot.resolve(" ", Map.of()));
        assertEquals(2, blank.status());
        assertEquals("--sync-dir is empty; give a directory that every node of the step sees", blank.getMessage());
        MusterException env =
                assertThrows(MusterException.class, () -> SyncRoot.resolve(null, Map.of("MUSTER_SYNC_DIR", " ")));
        assertTrue(env.getMessage().startsWith("MUSTER_SYNC_DIR is empty"), env.getMessage());
        MusterException relative = assertThrows(
                MusterException.class, () -> SyncRoot.resolve(null, Map.of("HOOK_BASE_DIR", "hooks", "USER", "a")));
        assertEquals(2, relative.status());
        assertEquals("HOOK_BASE_DIR=hooks is not an absolute path; set it to one", relative.getMessage());
    }

    @Test
    void resolve_passwdFile_namesTheUser_orRefusesWhenItLacksThisUid() throws IOException {
        Path passwd = tmp.resolve("passwd");
        Files.writeString(
                passwd, "other:x:" + (Posix.uid() + 1) + ":0::/:/bin/sh\nseeded:x:" + Posix.uid() + ":0::/:/bin/sh\n");
        Map<String, String> env = Map.of("HOOK_BASE_DIR", "/hooks", "PASSWD_FILE", passwd.toString(), "USER", "x");
        assertEquals(
                Path.of("/hooks/seeded/.oci-hooks/slurm-global-sync"),
                SyncRoot.resolve(null, env).path());
        Files.writeString(passwd, "other:x:" + (Posix.uid() + 1) + ":0::/:/bin/sh\n");
        MusterException e = assertThrows(MusterException.class, () -> SyncRoot.resolve(null, env));
        assertEquals(77, e.status());
        assertEquals(
                "PASSWD_FILE=" + passwd + " has no entry for uid " + Posix.uid()
                        + "; point PASSWD_FILE at a passwd(5) file that lists this user",
                e.getMessage());
        Map<String, String> emptyPasswd = Map.of("HOOK_BASE_DIR", "/hooks", "PASSWD_FILE", "", "USER", "bob");
        assertEquals(
                Path.of("/hooks/bob/.oci-hooks/slurm-global-sync"),
                SyncRoot.resolve(null, emptyPasswd).path());
    }

    @Test
    void prepare_createsTheRootAndItsMissingParents0700_andAcceptsItAgain() throws IOException {
        Path root = tmp.resolve("a/b/sync");
        SyncRoot s = new SyncRoot(root, "--sync-dir");
        assertEquals(root, s.prepare());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.getParent())));
        assertEquals(root, s.prepare(), "a second task finds it made");
        assertNull(SyncRoot.problem(root, "sync directory"));
    }

    @Test
    void prepare_refusesALinkAFileAndAGroupWritableDirectory_with77() throws IOException {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        assertRefused(
                link,
                "sync directory (--sync-dir) " + link + " is a symbolic link; muster does not follow "
                        + "links there: use the link's target or another directory");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertRefused(
                file,
                "sync directory (--sync-dir) " + file + " is not a directory; remove it or choose "
                        + "another directory");
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwx---"));
        assertRefused(
                shared,
                "sync directory (--sync-dir) " + shared + " is writable by group or others (mode 770); "
                        + "run chmod go-w on it or choose another directory");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwx---rwx"));
        assertRefused(
                shared,
                "sync directory (--sync-dir) " + shared + " is writable by group or others (mode 707); "
                        + "run chmod go-w on it or choose another directory");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertNull(SyncRoot.problem(shared, "sync directory"), "readable by others is fine");
        assertEquals(
                "step directory " + file + " is not a directory; remove it or choose another directory",
                SyncRoot.problem(file, "step directory"));
    }

    @Test
    void prepare_underAFile_isUnusable() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        MusterException e = assertThrows(
                MusterException.class, () -> new SyncRoot(file.resolve("sync"), "MUSTER_SYNC_DIR").prepare());
        assertEquals(77, e.status());
        assertTrue(
                e.getMessage().startsWith("sync directory " + file.resolve("sync") + " (from MUSTER_SYNC_DIR) is "),
                e.getMessage());
    }

    private static void assertRefused(Path dir, String message) {
        MusterException e = assertThrows(MusterException.class, () -> new SyncRoot(dir, "--sync-dir").prepare());
        assertEquals(77, e.status());
        assertEquals(message, e.getMessage());
    }
}
