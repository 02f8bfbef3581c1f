package dev.muster.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The descriptor number of one of this process's TCP connections. Java does not tell a channel's descriptor
 * without opening its internals; the kernel does: the connection's line in {@code /proc/self/net/tcp} (or
 * {@code tcp6}) names its socket's inode, and {@code /proc/self/fd/N} links to {@code socket:[inode]}.
 */
final class Sockets {
    private Sockets() {}

    /**
     * The descriptor of the connection from local port {@code local} to remote port {@code remote}, or -1. Through
     * libmuster.so where it is loaded: reading {@code /proc/self/net/tcp} walks every bucket of the host's
     * connection table (about 4 ms of system time with 262,144 buckets, tens of milliseconds on a loaded node),
     * and this runs between rank 0's ok and the hand-off, where the release may follow within milliseconds.
     */
    static int fdOf(int local, int remote) {
        if (dev.muster.core.NativeLibrary.loaded()) { // its ABI check guarantees socketFd
            int fd = dev.muster.core.NativeLibrary.socketFd(local, remote);
            if (fd >= 3) {
                return fd;
            }
        }
        return fromTables(local, remote);
    }

    /** {@link #fdOf} through {@code /proc/self/net/tcp} (or {@code tcp6}) and {@code /proc/self/fd}. */
    static int fromTables(int local, int remote) {
        String inode = inode("/proc/self/net/tcp", local, remote);
        if (inode == null) {
            inode = inode("/proc/self/net/tcp6", local, remote);
        }
        if (inode == null) {
            return -1;
        }
        String want = "socket:[" + inode + "]";
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : ds) {
                try {
                    if (Files.readSymbolicLink(p).toString().equals(want)) {
                        return Integer.parseInt(p.getFileName().toString());
                    }
                } catch (IOException | NumberFormatException e) {
                    // closed meanwhile, or not a descriptor
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /**
     * The inode of the connection's line in a {@code /proc/net/tcp}-style table, or null. Parsed by hand: this
     * runs in the hand-off right after the hello, where a cold JVM paid tens of milliseconds for the
     * {@code Formatter} and regular expressions of {@code String.format} and {@code split}.
     */
    static String inode(String table, int local, int remote) {
        try {
            return inodeIn(new String(Files.readAllBytes(Path.of(table)), StandardCharsets.US_ASCII), local, remote);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The inode of the connection's line in the text of a {@code /proc/net/tcp}-style table, or null. */
    static String inodeIn(String text, int local, int remote) {
        String l = port(local);
        String r = port(remote);
        int at = 0;
        while (at < text.length()) {
            int eol = text.indexOf('\n', at);
            if (eol < 0) {
                eol = text.length();
            }
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
            String[] f = fields(text, at, eol, 10);
            at = eol + 1;
            if (f != null && f[1].endsWith(l) && f[2].endsWith(r) && !f[9].equals("0")) {
                return f[9];
            }
        }
        return null;
    }

    /** ":" and the port as four upper-case hex digits, as the table writes it. */
    private static String port(int p) {
        String h = Integer.toHexString(p & 0xffff).toUpperCase(java.util.Locale.ROOT);
        return ":" + "0000".substring(h.length()) + h;
    }

    /** The first {@code n} space-separated fields of {@code text[from, to)}, or null when it has fewer. */
    private static String[] fields(String text, int from, int to, int n) {
        String[] f = new String[n];
        int i = from;
        for (int k = 0; k < n; k++) {
            while (i < to && text.charAt(i) == ' ') {
                i++;
            }
            int start = i;
            while (i < to && text.charAt(i) != ' ') {
                i++;
            }
            if (start == i) {
                return null;
            }
            f[k] = text.substring(start, i);
        }
        return f;
    }
}
