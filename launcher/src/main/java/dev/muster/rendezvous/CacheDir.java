package dev.muster.rendezvous;

import dev.muster.core.Caller;
import dev.muster.core.MusterException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The trust boundary of a rendezvous cache (DESIGN §5, the seed's "same user or trusted shared project"):
 * a directory owned by the caller is fine; one owned by someone else only when its group is one of the caller's
 * groups and it is not world-writable, unless the sticky bit keeps others from renaming what is not theirs.
 *
 * <p>The cache directory itself may be reached through a symbolic link (a project space linked into
 * {@code $HOME} is common) and is checked where it leads: the link is the user's own choice of path, and the
 * target still has to pass the owner rule. Below it, {@code rendezvous/} and {@code rendezvous/<name>/} are
 * checked without following links, because those are what another user could plant.
 */
public final class CacheDir {
    private static final int WORLD_WRITABLE = 0002;
    private static final int STICKY = 01000;

    private final Path dir;
    private final String given;
    private final Caller caller;

    /**
     * @param given the path exactly as the user gave it; records carry it, and messages and reported paths
     *              are built from it
     */
    public CacheDir(String given, Caller caller) {
        this(given, null, caller);
    }

    /**
     * A cache whose records say {@code given} but whose files live under {@code root}: the file-system root
     * injected by tests, so that records naming {@code /shared/cache} can be read without touching {@code /shared}.
     */
    CacheDir(String given, Path root, Caller caller) {
        if (given == null || given.isEmpty()) {
            throw MusterException.usage("the rendezvous cache directory must not be empty; pass --cache-dir DIR");
        }
        if (given.indexOf('\0') >= 0) {
            throw MusterException.usage("the rendezvous cache directory contains a NUL character");
        }
        this.given = given;
        this.dir = root != null ? root : Path.of(given);
        this.caller = caller;
    }

    /**
     * The cache directory a command uses: {@code flag} (its {@code --cache-dir}), else {@code MUSTER_CACHE_DIR},
     * else the seed's {@code CACHE_DIR}, else {@code ~/.cache/muster}.
     */
    public static String choose(String flag, java.util.Map<String, String> env) {
        String[] given = {flag, env.get("MUSTER_CACHE_DIR"), env.get("CACHE_DIR")};
        for (String v : given) {
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        String home = env.get("HOME");
        return (home != null && !home.isEmpty() ? home : System.getProperty("user.home")) + "/.cache/muster";
    }

    /** Where {@link #choose} took the directory from: {@code --cache-dir}, a variable's name, or "default". */
    public static String source(String flag, java.util.Map<String, String> env) {
        String[] labels = {"--cache-dir", "MUSTER_CACHE_DIR", "CACHE_DIR"};
        String[] given = {flag, env.get("MUSTER_CACHE_DIR"), env.get("CACHE_DIR")};
        for (int i = 0; i < given.length; i++) {
            if (given[i] != null && !given[i].isEmpty()) {
                return labels[i];
            }
        }
        return "default";
    }

    public String given() {
        return given;
    }

    public Path path() {
        return dir;
    }

    public Path rendezvousDir() {
        return dir.resolve("rendezvous");
    }

    /**
     * True when a record's {@code cache_dir} names this directory: compared component by component, so that
     * {@code /a/b/}, {@code /a//b} and {@code /a/./b} equal {@code /a/b}; no link is resolved, as hpc-compose
     * resolves none.
     */
    public boolean sameAs(String recordCacheDir) {
        return components(given).equals(components(recordCacheDir));
    }

    static List<String> components(String p) {
        List<String> out = new ArrayList<>();
        if (p.startsWith("/")) {
            out.add("/");
        }
        for (String c : p.split("/")) {
            if (!c.isEmpty() && !c.equals(".")) {
                out.add(c);
            }
        }
        return out;
    }

    /** Checks the cache directory if it exists; false when it does not. */
    public boolean checkIfPresent() {
        if (!Files.exists(dir)) {
            return false;
        }
        check(dir, true);
        return true;
    }

    /** Checks {@code sub} (a directory below the cache) without following a link, if it exists. */
    public boolean checkSubIfPresent(Path sub) {
        if (!Files.exists(sub, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        check(sub, false);
        return true;
    }

    /** Creates the cache directory and the given subdirectories as needed (process umask), checking each. */
    public void create(Path... subs) {
        try {
            if (!Files.exists(dir)) {
                Files.createDirectories(dir);
            }
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot create the rendezvous cache directory " + given + " (" + reason(e)
                    + "); create it or choose another with --cache-dir");
        }
        check(dir, true);
        for (Path sub : subs) {
            try {
                Files.createDirectory(sub);
            } catch (FileAlreadyExistsException e) {
                // someone else's mkdir won, or it was there: checked below either way
            } catch (IOException e) {
                throw MusterException.unusableDir("cannot create " + sub + " (" + reason(e)
                        + "); check the permissions of the rendezvous cache directory " + given);
            }
            check(sub, false);
        }
    }

    private void check(Path p, boolean followLink) {
        LinkOption[] opts = followLink ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
        int uid;
        int gid;
        int mode;
        try {
            if (!followLink && Files.isSymbolicLink(p)) {
                throw MusterException.unusableDir(
                        p + " is a symbolic link; muster follows none below the cache " + "directory: remove it");
            }
            if (!Files.isDirectory(p, opts)) {
                throw MusterException.unusableDir(
                        p + " is not a directory; remove it or choose another cache " + "directory with --cache-dir");
            }
            uid = (Integer) Files.getAttribute(p, "unix:uid", opts);
            gid = (Integer) Files.getAttribute(p, "unix:gid", opts);
            mode = (Integer) Files.getAttribute(p, "unix:mode", opts);
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot inspect " + p + " (" + reason(e) + ")");
        }
        refuseIfUntrusted(p.toString(), uid, gid, mode, caller);
    }

    /** The owner rule alone, for tests and for callers that already have the attributes. */
    static void refuseIfUntrusted(String what, int uid, int gid, int mode, Caller caller) {
        boolean worldWritable = (mode & WORLD_WRITABLE) != 0 && (mode & STICKY) == 0;
        if (uid == caller.uid()) {
            return;
        }
        if (!caller.groups().contains(gid)) {
            throw MusterException.unusableDir(what + " belongs to uid " + uid + " and group " + gid
                    + ", which is not one of your groups; use a cache directory of your own or of your project's "
                    + "group (--cache-dir)");
        }
        if (worldWritable) {
            throw MusterException.unusableDir(what + " belongs to uid " + uid + " and is writable by everyone "
                    + "without the sticky bit (mode " + String.format("%04o", mode & 07777)
                    + "); ask its owner to run chmod o-w (or +t), or use another --cache-dir");
        }
    }

    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "a file of that name is in the way";
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
