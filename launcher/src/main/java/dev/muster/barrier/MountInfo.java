package dev.muster.barrier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mount a path lives on, from {@code /proc/self/mountinfo} (longest mount-point prefix), and what its type
 * and options mean for the barrier's files.
 *
 * @param options mount options and super-block options merged, in order (e.g. {@code acdirmin=30},
 *                {@code lookupcache=positive}, {@code noac})
 */
public record MountInfo(String mountPoint, String type, String source, Map<String, String> options) {

    /** File systems whose files other nodes see. */
    private static final Set<String> SHARED = Set.of(
            "nfs",
            "nfs4",
            "lustre",
            "gpfs",
            "beegfs",
            "ceph",
            "cephfs",
            "fuse.ceph",
            "cifs",
            "smb3",
            "glusterfs",
            "fuse.glusterfs",
            "panfs",
            "pvfs2",
            "orangefs",
            "wekafs",
            "fuse.sshfs",
            "afs",
            "9p",
            "virtiofs",
            "fuse.juicefs",
            "quobyte",
            "fuse.quobyte");
    /** Types that are always one node's own. */
    private static final Set<String> LOCAL = Set.of(
            "tmpfs",
            "ramfs",
            "ext2",
            "ext3",
            "ext4",
            "xfs",
            "btrfs",
            "overlay",
            "zfs",
            "f2fs",
            "vfat",
            "squashfs",
            "devtmpfs");

    /** "shared", "node-local", or "unknown". */
    public String scope() {
        if (SHARED.contains(type)) {
            return "shared";
        }
        return LOCAL.contains(type) ? "node-local" : "unknown";
    }

    public boolean nfs() {
        return type.equals("nfs") || type.equals("nfs4");
    }

    /** Whether polls may hold a step file open on this mount (see {@link PolledFile#readsAreCoherent}). */
    public boolean readsAreCoherent() {
        return PolledFile.readsAreCoherent(this);
    }

    /** The mount holding {@code path} (or its nearest existing ancestor), or null when mountinfo is unreadable. */
    public static MountInfo of(Path path) {
        Path p = path.toAbsolutePath().normalize();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            return null;
        }
        try {
            p = p.toRealPath();
            return of(p, Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    static MountInfo of(Path real, List<String> mountinfo) {
        MountInfo best = null;
        String target = real.toString();
        for (String line : mountinfo) {
            // id parent maj:min root mount-point mount-options [optional...] - type source super-options
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 7 || dash < 6 || dash + 3 > f.length) {
                continue;
            }
            String mp = unescape(f[4]);
            boolean under = target.equals(mp) || mp.equals("/") || target.startsWith(mp + "/");
            if (!under || (best != null && mp.length() < best.mountPoint.length())) {
                continue;
            }
            Map<String, String> opts = new LinkedHashMap<>();
            addOptions(opts, f[5]);
            if (dash + 3 < f.length) {
                addOptions(opts, f[dash + 3]);
            }
            // a later line for the same mount point is mounted over the earlier one: it wins (>=)
            best = new MountInfo(mp, f[dash + 1], unescape(f[dash + 2]), opts);
        }
        return best;
    }

    private static void addOptions(Map<String, String> opts, String list) {
        for (String o : list.split(",")) {
            int eq = o.indexOf('=');
            if (eq > 0) {
                opts.put(o.substring(0, eq), o.substring(eq + 1));
            } else if (!o.isEmpty()) {
                opts.put(o, "");
            }
        }
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}
