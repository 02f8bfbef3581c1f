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

    /** The descriptor of the connection from local port {@code local} to remote port {@code remote}, or -1. */
    static int fdOf(int local, int remote) {
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

    /** The inode of the connection's line in a {@code /proc/net/tcp}-style table, or null. */
    private static String inode(String table, int local, int remote) {
        String l = String.format(":%04X", local);
        String r = String.format(":%04X", remote);
        try {
            for (String line : Files.readAllLines(Path.of(table), StandardCharsets.US_ASCII)) {
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(l) && f[2].endsWith(r) && !f[9].equals("0")) {
                    return f[9];
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
