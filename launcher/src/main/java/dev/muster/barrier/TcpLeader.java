package dev.muster.barrier;

import dev.muster.core.Backoff;
import dev.muster.core.Log;
import java.io.IOException;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Rank 0's side of the TCP release (see {@link TcpBarrier}): counts a task as arrived when it authenticated over
 * TCP or its arrival file exists, decides through the file protocol's claim as before, and sends the outcome to
 * every connected task. It reads the outcome file and lists the groups that still miss somebody with backoff up
 * to {@code --poll-max}, for the aborts and arrivals of tasks that are not connected. A connection that closes
 * before the release is a lost task: rank 0 decides an abort naming it.
 */
final class TcpLeader {
    private final FileBarrier fb;
    /** Tasks connected so far, for tests that wait until the others are connected. */
    private volatile int connectedCount;
    /** Bytes of the outcome (and streamed roster) sent to the connected tasks, for the benchmark. */
    private volatile long sent;
    /** The outcome rank 0 decided by the file protocol while its listener was not open yet. */
    private Outcome decidedByFiles;

    TcpLeader(FileBarrier fb) {
        this.fb = fb;
    }

    int connectedCount() {
        return connectedCount;
    }

    long sentBytes() {
        return sent;
    }

    Outcome await(TcpBarrier.PendingListener listening, Map<String, String> releaseData) throws InterruptedException {
        TcpServer server;
        TcpEndpoint ep;
        try {
            TcpBarrier.Listening l = awaitListener(listening, releaseData);
            if (l == null) {
                fb.via("file");
                return fb.finish(decidedByFiles);
            }
            server = l.server();
            ep = l.endpoint();
        } catch (ExecutionException e) {
            // the listener's thread said why (TcpBarrier.listen)
            Log.debug("no TCP listener: " + e.getCause());
            return fb.await(releaseData);
        }
        Log.debug("listening for the TCP release on " + ep.address());
        try {
            // before any connection is accepted: the small waiter then holds the listener and every connection
            fb.handOff()
                    .handOverLeader(
                            server.port(),
                            ep.token(),
                            releaseData,
                            fb.deadlineNanos(),
                            fb.arrivedNanos() + fb.settings().progress().toNanos() / 2);
            return loop(server, releaseData);
        } catch (IOException e) {
            // the selector itself failed: go on by files, keep the connections open (closing them would look
            // like rank 0's death to the connected tasks), and send them the outcome once it is decided
            Log.warn("the TCP release failed on rank 0 (" + e + "); waiting by the file protocol");
            try {
                return fb.await(releaseData);
            } finally {
                Outcome o = fb.readOutcome();
                if (o != null) {
                    server.send(o.encode());
                }
            }
        } finally {
            server.close();
        }
    }

    /**
     * Rank 0's listener once it listens. Until then rank 0 keeps to the file protocol (outcome file, arrival files,
     * its deadline) between short waits for it: the listener's thread is one a loaded node may not run for seconds
     * (the soak saw 16 s at a load average of 400), and meanwhile the others, who cannot connect before the
     * endpoint is published, are counted by their arrival files. Waiting for it alone held the release past the
     * others' deadlines, and rank 0's own. Returns null when the outcome was decided meanwhile
     * ({@link #decidedByFiles}); the listener is then closed as soon as it opens.
     */
    private TcpBarrier.Listening awaitListener(TcpBarrier.PendingListener listening, Map<String, String> releaseData)
            throws ExecutionException, InterruptedException {
        Backoff backoff = fb.backoff(fb.settings().leaderPoll().toNanos());
        BitSet arrived = new BitSet(fb.size());
        while (true) {
            long now = fb.clock().nanoTime();
            try {
                return listening.get(backoff.next(Math.max(1, fb.deadlineNanos() - now)), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // not listening yet: one round of the file protocol
            }
            Outcome o = fb.leaderRound(arrived, releaseData, fb.clock().nanoTime());
            if (o != null) {
                Log.debug("decided by the file protocol before the listener was open: " + o.kind());
                listening.abandon();
                decidedByFiles = o;
                return null;
            }
        }
    }

    private Outcome loop(TcpServer server, Map<String, String> releaseData) throws IOException, InterruptedException {
        int size = fb.size();
        long deadline = fb.deadlineNanos();
        long nextProgress = fb.arrivedNanos() + fb.settings().progress().toNanos() / 2;
        Backoff backoff = fb.backoff(fb.settings().pollMax().toNanos());
        long now = fb.clock().nanoTime();
        long nextFiles = now;
        long nextBeat = now + TcpHello.BEAT_NANOS;
        BitSet byFile = new BitSet(size);
        byFile.set(0);
        BitSet arrived = new BitSet(size);
        // the hellos that waited in the backlog for rank 0's arrival are answered before any file is counted:
        // a task whose hello went unanswered also writes its arrival file, and counted by it first, it was
        // released by file, its connection reset, and its wait was not handed to the small waiter
        server.poll(0, now);
        connectedCount = server.connected().cardinality();
        while (true) {
            if (now >= nextFiles) {
                Outcome o = fb.readOutcome();
                if (o != null) {
                    return relay(server, o);
                }
                if (count(arrived, byFile, server) < size) {
                    listByFile(arrived, byFile);
                }
                nextFiles = now + backoff.next();
            }
            if (server.lost() >= 0) {
                int r = server.lost();
                return relay(
                        server,
                        fb.decide(Outcome.abort(
                                r,
                                0,
                                "rank " + r + "'s connection to rank 0 closed "
                                        + "before the release (the task was killed, or its node failed)")));
            }
            if (count(arrived, byFile, server) == size) {
                return release(server, releaseData);
            }
            if (now >= deadline) {
                return relay(server, fb.decide(Outcome.timeout(0, fb.missing(arrived))));
            }
            if (now >= nextProgress) {
                Log.info(arrived.cardinality() + "/" + size + " arrived ("
                        + server.connected().cardinality()
                        + " by TCP), waiting for " + FailureReport.ranks(fb.missing(arrived)) + " ("
                        + FailureReport.secondsLeft(deadline, now) + " s left)");
                nextProgress = now + fb.settings().progress().toNanos();
            }
            if (now >= nextBeat) {
                server.beat();
                nextBeat = now + TcpHello.BEAT_NANOS;
            }
            long wait = Math.min(Math.min(Math.min(nextFiles, deadline), nextProgress), nextBeat) - now;
            server.poll(Math.max(0, wait), now);
            connectedCount = server.connected().cardinality();
            now = fb.clock().nanoTime();
        }
    }

    /** Adds the arrival files to {@code arrived} and {@code byFile}: only groups that still miss a task are listed. */
    private void listByFile(BitSet arrived, BitSet byFile) {
        int before = arrived.cardinality();
        fb.listArrivals(arrived);
        byFile.or(arrived);
        if (arrived.cardinality() > before) {
            Log.debug("arrival files: " + arrived.cardinality() + " of " + fb.size() + " arrived");
        }
    }

    /** Every task has arrived: rank 0 decides the release, with the roster if asked for, and relays it. */
    private Outcome release(TcpServer server, Map<String, String> releaseData) {
        int size = fb.size();
        Log.debug("all " + size + " arrived, " + server.connected().cardinality() + " by TCP (t_us="
                + TcpBarrier.nowUs() + ")");
        return relay(
                server,
                fb.decide(Outcome.release(
                        0,
                        fb.stepRoster()
                                .withRoster(
                                        releaseData,
                                        server::card,
                                        true,
                                        server.connected().cardinality() == size - 1))));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    /** Sets {@code arrived} to the tasks seen by file, connected, or departed; returns how many. */
    private static int count(BitSet arrived, BitSet byFile, TcpServer server) {
        arrived.clear();
        arrived.or(byFile);
        arrived.or(server.connected());
        arrived.or(server.departed());
        return arrived.cardinality();
    }

    private Outcome relay(TcpServer server, Outcome o) {
        byte[] bytes = o.encode();
        byte[] roster = fb.stepRoster().builtRoster();
        String via =
                o.kind() == Outcome.Kind.RELEASE && roster != null ? o.data().get(Roster.VIA) : null;
        java.util.BitSet leaders = new java.util.BitSet();
        byte[] leaderBytes = null;
        if ("tcp".equals(via)) {
            // the roster follows the outcome on the same stream (RosterRelay#via bounds what that costs)
            bytes = concat(bytes, roster);
        } else if (RosterRelay.NODE.equals(via)) {
            // one task per node gets the roster on its stream, and says so in its copy of the outcome
            leaders.or(fb.stepRoster().rosterLeaders());
            leaders.and(server.connected());
            Map<String, String> d = new java.util.LinkedHashMap<>(o.data());
            d.put(RosterRelay.STREAMED, "1");
            leaderBytes = concat(Outcome.release(o.rank(), d).encode(), roster);
        }
        int others = server.connected().cardinality() - leaders.cardinality();
        sent = (long) bytes.length * others
                + (leaderBytes == null ? 0 : (long) leaderBytes.length * leaders.cardinality());
        server.send(bytes, leaderBytes, leaders);
        try {
            fb.stepRoster().writeDeferredRoster();
        } catch (RuntimeException e) {
            Log.warn("the release went out, but the roster file could not be written: " + e.getMessage());
        }
        Log.debug("outcome sent to " + server.connected().cardinality() + " tasks (t_us=" + TcpBarrier.nowUs() + ")");
        fb.via(server.connected().isEmpty() ? "file" : "tcp");
        if (server.refused() > 0) {
            Log.debug("refused " + server.refused() + " TCP connections (bad hello or token, too slow, no room)");
        }
        return fb.finish(o);
    }
}
