package dev.muster.core;


import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who is asking: effective uid and every group the process is in. Read from {@code /proc/self/status} rather
 * than through {@code com.sun.security.auth} or JNI, which would cost start-up time on every task.
 */
public record Caller(int uid, Set<Integer> groups) {

    public Caller {
        groups = Set.copyOf(groups);
    }

    private static volatile Caller self;

    public static Caller self() {
        Caller c = self;
        if (c == null) {
            Path status = Path.of("/proc/self/status");
            c = Files.isReadable(status) ? fromStatus(status) : withoutProc();
            self = c;
        }
        return c;
    }

    /**
     * Where there is no {@code /proc} (a laptop running macOS): the owner of a file this process creates is its
     * effective uid, and {@code id -G} lists its groups. Slower, but only where the fast path does not exist.
     */
    public static Caller withoutProc() {
        try {
            Path probe = Files.createTempFile("muster-caller", ".tmp");
            int uid;
            try {
                uid = (Integer) Files.getAttribute(probe, "unix:uid");
            } finally {
                Files.deleteIfExists(probe);
            }
            Process p = new ProcessBuilder("id", "-G").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor() != 0) {
                throw new IOException("id -G failed: " + out);
            }
            Set<Integer> groups = new TreeSet<>();
            for (String g : out.split("\\s+")) {
                groups.add(Integer.parseInt(g));
            }
            return new Caller(uid, groups);
        } catch (IOException | RuntimeException e) {
            throw MusterException.unusableDir("cannot tell the user and group ids without /proc (" + e
                    + "); muster needs them to check who owns the cache directory");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw MusterException.unusableDir("interrupted while reading the group ids");
        }
    }

    public static Caller fromStatus(Path status) {
        int uid = -1;
        Set<Integer> groups = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(status, StandardCharsets.ISO_8859_1)) {
                // Uid: and Gid: list real, effective, saved and file-system ids; access checks use the effective one
                if (line.startsWith("Uid:")) {
                    uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                } else if (line.startsWith("Gid:")) {
                    groups.add(Integer.parseInt(line.substring(4).trim().split("\\s+")[1]));
                } else if (line.startsWith("Groups:")) {
                    for (String g : line.substring(7).trim().split("\\s+")) {
                        if (!g.isEmpty()) {
                            groups.add(Integer.parseInt(g));
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw MusterException.unusableDir("cannot read the user and group ids from " + status + " (" + e
                    + "); muster needs /proc to check who owns the cache directory");
        }
        if (uid < 0 || groups.isEmpty()) {
            throw MusterException.unusableDir("no Uid:/Gid: lines in " + status
                    + "; muster needs /proc to check who owns the cache directory");
        }
        return new Caller(uid, groups);
    }
}
