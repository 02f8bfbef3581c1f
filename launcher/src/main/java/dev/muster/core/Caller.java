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
            for (String g : words(out)) {
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

    /**
     * The words of {@code s}, split at spaces and tabs. Not {@code split("\\s+")}: compiling a regex costs a cold
     * JVM (the agent's premain) milliseconds.
     */
    static java.util.List<String> words(String s) {
        java.util.List<String> out = new java.util.ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                out.add(s.substring(start, i));
            }
        }
        return out;
    }

    public static Caller fromStatus(Path status) {
        int uid = -1;
        Set<Integer> groups = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(status, StandardCharsets.ISO_8859_1)) {
                // Uid: and Gid: list real, effective, saved and file-system ids; access checks use the effective one
                if (line.startsWith("Uid:")) {
                    uid = Integer.parseInt(words(line.substring(4)).get(1));
                } else if (line.startsWith("Gid:")) {
                    groups.add(Integer.parseInt(words(line.substring(4)).get(1)));
                } else if (line.startsWith("Groups:")) {
                    for (String g : words(line.substring(7))) {
                        groups.add(Integer.parseInt(g));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw MusterException.unusableDir("cannot read the user and group ids from " + status + " (" + e
                    + "); muster needs /proc to check who owns the cache directory");
        }
        if (uid < 0 || groups.isEmpty()) {
            throw MusterException.unusableDir(
                    "no Uid:/Gid: lines in " + status + "; muster needs /proc to check who owns the cache directory");
        }
        return new Caller(uid, groups);
    }
}
