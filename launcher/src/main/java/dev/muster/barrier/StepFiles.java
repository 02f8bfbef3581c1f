package dev.muster.barrier;

import dev.muster.core.ForceSync;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.SharedFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.BitSet;
import java.util.Set;

/**
 * The layout of one step directory, file protocol version 1 (DESIGN §4): the one place its names are defined.
 * {@link Cleanup}'s shell loop and {@link SarusBaseline} take them from here.
 *
 * <pre>
 * &lt;root&gt;/&lt;key&gt;/arrival/&lt;g&gt;/&lt;rank&gt; made by each task on arrival (host, pid, time), g = rank / width
 * &lt;root&gt;/&lt;key&gt;/outcome             made empty by the first task; filled once, by one write()
 * &lt;root&gt;/&lt;key&gt;/endpoint            made empty (0600) by the first task; rank 0 writes its TCP address once
 * &lt;root&gt;/&lt;key&gt;/claim               hard link whose creation decides who writes the outcome
 * &lt;root&gt;/&lt;key&gt;/departure/&lt;rank&gt;   made by each task after it has seen the release
 * </pre>
 *
 * <p>Arrivals are spread over about sqrt(N) groups of about sqrt(N) entries ({@code width} = ceil(sqrt(N))), so
 * that rank 0 never lists a directory of thousands of entries and lists again only the groups that still miss
 * somebody. Rank 0 creates every group directory before it first lists, and every task creates its own group
 * with mkdir (EEXIST is fine) before writing into it: nobody looks up a name that may not exist yet (why:
 * docs/barrier.md#shared-file-systems-and-client-caches).
 */
final class StepFiles {
    static final String ARRIVAL = "arrival";
    static final String DEPARTURE = "departure";
    static final String OUTCOME = "outcome";
    static final String ENDPOINT = "endpoint";
    static final String CLAIM = "claim";
    /** Prefix of the private file a task links to {@link #CLAIM}. */
    static final String CLAIM_TEMP = ".claim.";
    /** Infix of the name a step directory is renamed to before it is deleted. */
    static final String GONE = ".gone.";
    /** The Sarus-style baseline's own directory inside the step directory. */
    static final String SARUS = "sarus";
    /** Largest outcome muster reads: a release carries rendezvous records, never megabytes. */
    static final int MAX_OUTCOME = 1 << 20;

    final Path dir;
    final Path arrivalDir;
    final Path departureDir;
    final Path outcomeFile;
    final Path endpointFile;
    final int width;
    final int size;

    StepFiles(Path root, String key, int size) {
        this.dir = root.resolve(key);
        this.arrivalDir = dir.resolve(ARRIVAL);
        this.departureDir = dir.resolve(DEPARTURE);
        this.outcomeFile = dir.resolve(OUTCOME);
        this.endpointFile = dir.resolve(ENDPOINT);
        this.width = width(size);
        this.size = size;
    }

    /** Creates the directories and the empty outcome and endpoint files (each exactly once across tasks). */
    void create(int rank) throws IOException {
        SyncRoot.makePrivateDir(dir, "step directory");
        SyncRoot.makePrivateDir(arrivalDir, "step directory");
        SyncRoot.makePrivateDir(departureDir, "step directory");
        try {
            Files.newByteChannel(
                            outcomeFile,
                            StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE,
                            LinkOption.NOFOLLOW_LINKS)
                    .close();
        } catch (FileAlreadyExistsException e) {
            // another task made it first
        }
        if (!Files.isRegularFile(outcomeFile, LinkOption.NOFOLLOW_LINKS)) {
            throw MusterException.corrupt("outcome file " + outcomeFile + " is not a regular file (a link or "
                    + "directory?); remove " + dir + " or choose another sync directory");
        }
        try {
            // 0600: it carries the token that admits a connection to rank 0
            Files.newByteChannel(
                            endpointFile,
                            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    .close();
        } catch (FileAlreadyExistsException e) {
            // another task made it first
        }
        if (rank == 0) {
            for (int g = 0; g * width < size; g++) {
                SyncRoot.makePrivateDir(arrivalDir.resolve(Integer.toString(g)), "step directory");
            }
        }
    }

    /** 0700, made once: parsing the permissions costs a cold JVM on the hand-off's path (WaiterHandOff). */
    private static final java.nio.file.attribute.FileAttribute<?> PRIVATE_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    /** Writes {@code rank}'s arrival file, making its group directory if nobody has yet. */
    void writeArrival(int rank, byte[] info) throws IOException {
        Path group = arrivalDir.resolve(Integer.toString(rank / width));
        try {
            Files.createDirectory(group, PRIVATE_DIR);
        } catch (FileAlreadyExistsException e) {
            // rank 0 or another task of the group made it
        }
        try (FileChannel ch = SharedFiles.openRegularForWrite(group.resolve(Integer.toString(rank)), true)) {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(info));
        }
    }

    /** {@code rank}'s arrival file. */
    Path arrivalFile(int rank) {
        return arrivalDir.resolve(Integer.toString(rank / width)).resolve(Integer.toString(rank));
    }

    Path departure(int rank) {
        return departureDir.resolve(Integer.toString(rank));
    }

    Path claim() {
        return dir.resolve(CLAIM);
    }

    Path claimTemp(int rank, long pid, long nonce) {
        return Path.of(claimTempPrefix(rank, pid) + Long.toHexString(nonce));
    }

    /** {@link #claimTemp} but for the nonce (the small waiter adds its own). */
    String claimTempPrefix(int rank, long pid) {
        return dir.resolve(CLAIM_TEMP + rank + "." + pid + ".").toString();
    }

    /** Where {@code stepDir} is renamed before it is deleted, so a straggler never reads a half-deleted tree. */
    static Path gone(Path stepDir, long pid) {
        return stepDir.resolveSibling(stepDir.getFileName() + GONE + pid);
    }

    /**
     * Fills a file created empty ahead of time with one write(), in place: readers see nothing or everything
     * (a short read has no {@code end} line and is read again), and nobody polls a name that does not exist yet.
     */
    static void fill(Path file, byte[] bytes) throws IOException {
        // never blocking on a FIFO swapped in under the name (SharedFiles)
        try (FileChannel ch = SharedFiles.openRegularForWrite(file, false)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            long at = 0;
            while (buf.hasRemaining()) {
                at += ch.write(buf, at);
            }
        }
    }

    /**
     * Adds to {@code seen} the ranks whose arrival files exist, listing only the groups that still miss
     * somebody. Rank 0 made every group before it lists; another task lists only at its deadline. With
     * {@code forceSync} each group's attributes are first fetched from the server ({@link ForceSync}).
     */
    BitSet listArrivals(BitSet seen, boolean forceSync) {
        for (int g = 0; g * width < size; g++) {
            int from = g * width;
            int to = Math.min(size, from + width);
            if (seen.nextClearBit(from) >= to) {
                continue;
            }
            Path group = arrivalDir.resolve(Integer.toString(g));
            if (forceSync) {
                ForceSync.attributes(group); // a client's cached listing of a changed directory is dropped
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(group)) {
                for (Path p : ds) {
                    int r = parseRank(p.getFileName().toString());
                    if (r >= from && r < to) {
                        seen.set(r);
                    }
                    // anything else is a foreign file: ignored
                }
            } catch (NoSuchFileException e) {
                // nobody of this group has arrived (only a non-zero rank at its deadline can get here)
            } catch (IOException e) {
                Log.debug("listing " + group + ": " + e);
            }
        }
        return seen;
    }

    /** How many entries of {@code dir} are rank names (departures, the baseline's arrivals). */
    static int countRanks(Path dir) throws IOException {
        int n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (parseRank(p.getFileName().toString()) >= 0) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Arrival files per group directory: ceil(sqrt(size)). */
    static int width(int size) {
        int w = (int) Math.ceil(Math.sqrt(Math.max(1, size)));
        while ((long) w * w < size) {
            w++;
        }
        return Math.max(1, w);
    }

    /** A rank's file name: decimal, no sign, no leading zero, at most 9 digits; -1 for anything else. */
    static int parseRank(String name) {
        if (name.isEmpty() || name.length() > 9) {
            return -1;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return -1;
            }
        }
        if (name.length() > 1 && name.charAt(0) == '0') {
            return -1;
        }
        return Integer.parseInt(name);
    }
}
