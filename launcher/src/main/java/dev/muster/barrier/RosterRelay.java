package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.Log;
import dev.muster.core.Posix;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;

/**
 * The roster's fan-out per node (docs/roster.md#fan-out). When streaming the roster to every task would cost rank
 * 0 more than {@link #ALL_BUDGET}, rank 0 streams it only to the lowest rank of every other node (the node's
 * leader, known from the cards), and the release says {@code roster.via=node}. The leader (and rank 0 on its own
 * node) writes the roster once into a node-local file, {@code <node dir>/<step>@<node>.<pid>.json}; the other
 * tasks of the node read that file instead of the shared step directory. A task that finds no node file within
 * {@link #NODE_WAIT_NANOS} reads the step's {@code roster} file, which rank 0 writes before the release in this
 * mode, and writes the node file itself. A follower that predates this mode sees a {@code via} other than
 * {@code tcp} and reads the step's file, as it always did.
 */
final class RosterRelay {
    /** {@code roster.via} value: streamed to one task per node, shared through a node-local file. */
    static final String NODE = "node";
    /** Release data in the outcome sent to a node leader: the roster follows it on the stream. */
    static final String STREAMED = "roster.streamed";
    /** Above this many bytes streamed to every task, rank 0 streams to one task per node instead. */
    static final long ALL_BUDGET = 1L << 20;
    /**
     * Most bytes rank 0 streams to the node leaders: it grows with the nodes, not the tasks (4 MiB rosters to 64
     * nodes); above it every task reads the step's file. A tree among the leaders would lift it (not built).
     */
    static final long NODE_BUDGET = 256L << 20;
    /** How long a task waits for its node leader's file before it reads the shared one. */
    static final long NODE_WAIT_NANOS = 2_000_000_000L;

    private RosterRelay() {}

    /** Rank 0: the lowest rank of every node other than rank 0's own (cards with no node lead nobody). */
    static BitSet leaders(Card[] cards) {
        Set<String> seen = new HashSet<>();
        seen.add(cards[0].node());
        BitSet b = new BitSet(cards.length);
        for (int r = 1; r < cards.length; r++) {
            String n = cards[r].node();
            if (!n.isEmpty() && seen.add(n)) {
                b.set(r);
            }
        }
        return b;
    }

    /**
     * Rank 0: how the roster travels. {@code tcp}: streamed to every task (while that costs at most
     * {@link #ALL_BUDGET}, or within {@link Roster#STREAM_BUDGET} when every task is alone on its node);
     * {@code node}: streamed to the node leaders within {@link #NODE_BUDGET}; else {@code file}.
     */
    static String via(boolean tcp, int size, long bytes, int leaders) {
        if (!tcp) {
            return "file";
        }
        long all = bytes * (size - 1L);
        if (all <= ALL_BUDGET || (leaders >= size - 1 && Roster.streams(size, bytes))) {
            return "tcp";
        }
        if (leaders < size - 1 && bytes * leaders <= NODE_BUDGET) {
            return NODE;
        }
        return "file";
    }

    /** The node file's name prefix: the step (its key and directory) and the node, both made file-name safe. */
    static String prefix(Path stepDir, String node) {
        String step = stepDir.getFileName() + "-"
                + Integer.toHexString(stepDir.toString().hashCode());
        return safe(step) + "@" + safe(node) + ".";
    }

    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9_.-]", "_");
    }

    /**
     * This node's roster file written by another task of the step, read once it has {@code want} bytes, waiting
     * up to {@link #NODE_WAIT_NANOS}; null when none came (the caller reads the shared file).
     */
    static byte[] read(Path nodeDir, String prefix, long want, Clock clock) throws InterruptedException {
        long until = clock.nanoTime() + NODE_WAIT_NANOS;
        long pause = 2_000_000L;
        while (true) {
            Path p = find(nodeDir, prefix);
            if (p != null) {
                try {
                    byte[] b = Files.readAllBytes(p);
                    if (b.length == want) {
                        return b;
                    }
                } catch (IOException e) {
                    // its writer's remover took it meanwhile: look again
                }
            }
            if (clock.nanoTime() >= until) {
                Log.debug("no roster file of this node's leader in " + nodeDir + ": reading the step's");
                return null;
            }
            clock.sleep(pause);
            pause = Math.min(pause * 2, 100_000_000L);
        }
    }

    private static Path find(Path nodeDir, String prefix) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(nodeDir, prefix + "*.json")) {
            for (Path p : ds) {
                return p;
            }
        } catch (IOException e) {
            // not there yet
        }
        return null;
    }

    /**
     * Writes this node's roster file (temp file + rename, so that nobody reads part of it), named with this
     * process's PID so that the roster files' sweep removes it once the process is gone. Failure only costs the
     * other tasks of the node a read of the shared file. The temp file is this writer's alone: tasks that share
     * a PID (in containers of their own, each with its own PID namespace, or threads as ranks) write at once, and
     * with one temp name a writer's truncation left another's renamed file with zeros where its start was.
     */
    static Path write(Path nodeDir, String prefix, byte[] json) {
        Path file = nodeDir.resolve(prefix + Posix.pid() + ".json");
        Path tmp = nodeDir.resolve("." + file.getFileName() + "."
                + Long.toHexString(
                        java.util.concurrent.ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            Files.createDirectories(
                    nodeDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            dev.muster.core.SharedFiles.writeReplacing(tmp, file, json);
            return file;
        } catch (IOException e) {
            Log.debug("cannot write the node's roster file " + file + ": " + e);
            return null;
        }
    }
}
