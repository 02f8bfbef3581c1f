package dev.muster.exec;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which open descriptors the task inherited. None of the JVM's own files (lib/modules, the jar, sockets Java
 * opened) are close-on-exec, so they would leak into the exec'd program; closing everything from 3 up would also
 * close what the task inherited (PMI's sockets). So: note the descriptors at the very start of {@code main},
 * minus those the JVM itself opened before it (files under java.home, the class path, a CDS/AOT archive), and
 * before exec mark every other descriptor close-on-exec.
 */
public final class Descriptors {
    private static volatile Set<Integer> inherited;

    private Descriptors() {}

    /** Call first thing in {@code main}. */
    public static void noteInherited() {
        Set<Integer> fds = new HashSet<>();
        List<String> jvmFiles = jvmFiles();
        for (int fd : open()) {
            String target = target(fd);
            if (target == null) {
                continue; // the listing's own descriptor, already closed
            }
            boolean jvms = false;
            for (String f : jvmFiles) {
                if (target.equals(f) || target.startsWith(f + "/")) {
                    jvms = true;
                    break;
                }
            }
            if (!jvms && !target.endsWith(".jsa") && !target.endsWith(".aot")) {
                fds.add(fd);
            }
        }
        inherited = fds;
    }

    /** The inherited descriptors, ascending (none known: empty). */
    public static int[] inherited() {
        Set<Integer> keep = inherited;
        if (keep == null) {
            return new int[0];
        }
        int[] fds = new int[keep.size()];
        int i = 0;
        for (int fd : keep) {
            fds[i++] = fd;
        }
        java.util.Arrays.sort(fds);
        return fds;
    }

    /** Descriptors ≥ 3 open now that the task did not inherit. */
    public static List<Integer> notInherited() {
        Set<Integer> keep = inherited;
        List<Integer> out = new ArrayList<>();
        for (int fd : open()) {
            if (fd > 2 && (keep == null || !keep.contains(fd))) {
                out.add(fd);
            }
        }
        return out;
    }

    private static List<String> jvmFiles() {
        List<String> out = new ArrayList<>();
        addReal(out, System.getProperty("java.home"));
        String cp = System.getProperty("java.class.path", "");
        for (String e : cp.split(java.io.File.pathSeparator)) {
            if (!e.isEmpty()) {
                addReal(out, e);
            }
        }
        return out;
    }

    private static void addReal(List<String> out, String path) {
        if (path == null) {
            return;
        }
        try {
            out.add(Path.of(path).toRealPath().toString());
        } catch (IOException | RuntimeException e) {
            out.add(Path.of(path).toAbsolutePath().normalize().toString());
        }
    }

    private static List<Integer> open() {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : ds) {
                try {
                    fds.add(Integer.parseInt(p.getFileName().toString()));
                } catch (NumberFormatException e) {
                    // not a descriptor
                }
            }
        } catch (IOException e) {
            // no /proc: nothing to mark, nothing to keep
        }
        return fds;
    }

    private static String target(int fd) {
        try {
            String t = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return t.startsWith("/proc/") && t.endsWith("/fd") ? null : t;
        } catch (IOException e) {
            return null;
        }
    }
}
