package dev.muster.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Process credentials and file ownership, read without extra JDK modules (start-up cost). */
public final class Posix {
    private static volatile long[] ids;

    private Posix() {
    }

    /** Effective uid, from {@code /proc/self/status}. */
    public static int uid() {
        return (int) status()[0];
    }

    /** Effective gid. */
    public static int gid() {
        return (int) status()[1];
    }

    /** The caller's groups: effective gid plus supplementary groups. */
    public static List<Integer> groups() {
        List<Integer> out = new ArrayList<>();
        out.add(gid());
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("Groups:")) {
                    for (String g : line.substring(7).trim().split("\\s+")) {
                        if (!g.isEmpty()) {
                            out.add(Integer.parseInt(g));
                        }
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // only the primary group then
        }
        return out;
    }

    public static long pid() {
        return ProcessHandle.current().pid();
    }

    private static long[] status() {
        long[] v = ids;
        if (v == null) {
            v = new long[] {-1, -1};
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
                    if (line.startsWith("Uid:")) {
                        v[0] = Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                    } else if (line.startsWith("Gid:")) {
                        v[1] = Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                throw MusterException.internal("cannot read /proc/self/status for the user id: " + e, e);
            }
            ids = v;
        }
        return v;
    }

    /** Owner uid of {@code p} itself (a link is not followed). */
    public static int ownerOf(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    public static int groupOf(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
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
