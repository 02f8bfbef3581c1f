package dev.muster.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Process credentials and file ownership, read without extra JDK modules (start-up cost). */
public final class Posix {
    private Posix() {}

    /** Effective uid. */
    public static int uid() {
        return Caller.self().uid();
    }

    private static volatile long pid = -1;

    /**
     * This process's id, from the {@code /proc/self} link: {@code ProcessHandle.current()} would initialise the
     * JDK's process-reaper machinery, which a cold start pays for.
     */
    public static long pid() {
        long p = pid;
        if (p < 0) {
            try {
                p = Long.parseLong(Files.readSymbolicLink(Path.of("/proc/self")).toString());
            } catch (IOException | RuntimeException e) {
                p = ProcessHandle.current().pid();
            }
            pid = p;
        }
        return p;
    }

    /** Owner uid of {@code p} itself (a link is not followed). */
    public static int ownerOf(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    /** Mode bits of {@code p} itself, e.g. 040700 for a private directory. */
    public static int modeOf(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    /** User name of {@code uid} from a passwd(5) file, or null. */
    public static String userName(Path passwd, int uid) {
        try {
            for (String line : Files.readAllLines(passwd, StandardCharsets.UTF_8)) {
                String[] f = line.split(":", -1);
                if (f.length >= 3 && f[2].equals(Integer.toString(uid))) {
                    return f[0];
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
