package dev.muster.barrier;

import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The directory under which every step keeps its barrier files (DESIGN §4): {@code --sync-dir}, else
 * {@code MUSTER_SYNC_DIR}, else the seed's {@code <HOOK_BASE_DIR>/<user>/.oci-hooks/slurm-global-sync}, else
 * {@code $HOME/.muster/sync}. What muster creates it creates 0700; the root's last component and everything below
 * it must be real directories owned by the user and writable by nobody else. Links above the root (a symlinked
 * {@code $HOME}) are normal.
 */
public record SyncRoot(Path path, String source) {

    public static SyncRoot resolve(String flag, Map<String, String> env) {
        if (flag != null) {
            return of(flag, "--sync-dir");
        }
        String v = env.get("MUSTER_SYNC_DIR");
        if (v != null && !v.isEmpty()) {
            return of(v, "MUSTER_SYNC_DIR");
        }
        String base = env.get("HOOK_BASE_DIR");
        if (base != null && !base.isEmpty()) {
            String user = null;
            String passwd = env.get("PASSWD_FILE");
            if (passwd != null && !passwd.isEmpty()) {
                user = Posix.userName(Path.of(passwd), Posix.uid());
                if (user == null) {
                    throw MusterException.unusableDir("PASSWD_FILE=" + passwd + " has no entry for uid " + Posix.uid()
                            + "; point PASSWD_FILE at a passwd(5) file that lists this user");
                }
            } else {
                user = env.getOrDefault("USER", System.getProperty("user.name"));
            }
            if (!Path.of(base).isAbsolute()) {
                throw MusterException.usage("HOOK_BASE_DIR=" + base + " is not an absolute path; set it to one");
            }
            return new SyncRoot(Path.of(base, user, ".oci-hooks", "slurm-global-sync"), "HOOK_BASE_DIR");
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return new SyncRoot(Path.of(home, ".muster", "sync"), "HOME");
    }

    private static SyncRoot of(String value, String source) {
        if (value.isBlank()) {
            throw MusterException.usage(source + " is empty; give a directory that every node of the step sees");
        }
        return new SyncRoot(Path.of(value).toAbsolutePath().normalize(), source);
    }

    /** Creates the root when missing (0700), and checks it as DESIGN §4 says. */
    public Path prepare() {
        Path parent = path.getParent();
        try {
            if (parent != null && !Files.isDirectory(parent)) {
                Files.createDirectories(
                        parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            makePrivateDir(path, "sync directory (" + source + ")");
        } catch (AccessDeniedException e) {
            throw MusterException.unusableDir("sync directory " + path + " (from " + source + ") cannot be created: "
                    + "permission denied on " + e.getFile() + "; set --sync-dir or MUSTER_SYNC_DIR to a directory "
                    + "you own on storage shared by all nodes");
        } catch (IOException e) {
            throw MusterException.unusableDir("sync directory " + path + " (from " + source + ") is unusable: " + e
                    + "; set --sync-dir or MUSTER_SYNC_DIR to a directory you own on shared storage");
        }
        return path;
    }

    /**
     * Creates {@code dir} (0700) unless it exists, then checks without following links that it is a directory of
     * ours that nobody else can write. Every task does this for the same directories, so "exists" is no error.
     */
    static void makePrivateDir(Path dir, String what) throws IOException {
        try {
            Files.createDirectory(
                    dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // made by another task, or earlier: checked below
        }
        checkPrivateDir(dir, what);
    }

    /** The problem {@link #checkPrivateDir} would report for {@code dir}, or null when it passes. */
    public static String problem(Path dir, String what) {
        try {
            checkPrivateDir(dir, what);
            return null;
        } catch (dev.muster.core.MusterException e) {
            return e.getMessage();
        } catch (IOException e) {
            return what + " " + dir + ": " + e;
        }
    }

    static void checkPrivateDir(Path dir, String what) throws IOException {
        if (Files.isSymbolicLink(dir)) {
            throw MusterException.unusableDir(what + " " + dir + " is a symbolic link; muster does not follow links "
                    + "there: use the link's target or another directory");
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw MusterException.unusableDir(
                    what + " " + dir + " is not a directory; remove it or choose another " + "directory");
        }
        int owner = Posix.ownerOf(dir);
        if (owner != Posix.uid()) {
            throw MusterException.unusableDir(what + " " + dir + " is owned by uid " + owner + ", not by you (uid "
                    + Posix.uid() + "); use a directory of your own");
        }
        int mode = Posix.modeOf(dir);
        if ((mode & 0022) != 0) {
            throw MusterException.unusableDir(what + " " + dir + " is writable by group or others (mode "
                    + Integer.toOctalString(mode & 07777) + "); run chmod go-w on it or choose another directory");
        }
        if (!Files.isWritable(dir)) {
            throw MusterException.unusableDir(
                    what + " " + dir + " is not writable; fix its permissions or choose " + "another directory");
        }
    }
}
