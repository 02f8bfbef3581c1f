package dev.muster.barrier;

import dev.muster.core.Log;

import java.io.IOException;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;

/**
 * The TCP release path (DESIGN §4, "Performance"), on top of the file protocol, which stays the source of truth:
 * rank 0 still decides through the {@code claim} link and writes the outcome file, and TCP only carries the
 * count and the news.
 *
 * <ul>
 * <li>Rank 0 listens, publishes {@code host:port} and a random 128-bit token in the pre-created {@code endpoint}
 * file, and counts a task as arrived when it authenticated over TCP or its arrival file exists (a task that cannot
 * connect waits by the file protocol). It decides as before, writes the outcome file, then sends the same bytes to
 * every connected task. It reads the outcome file and lists the groups that still miss somebody with backoff up
 * to {@code --poll-max}, for the aborts and arrivals of tasks that are not connected.
 * <li>A connection that closes before the release is a lost task: rank 0 decides an abort naming it. A task
 * about to die of a signal writes its own abort first, which then wins the claim and keeps its exit code.
 * <li>The others poll the endpoint file (and, every other time, the outcome file, so that an early abort is
 * seen) with backoff and jitter, connect, and then make no file-system call until the outcome arrives. If rank 0's
 * connection closes first, they decide an abort naming rank 0, unless an outcome is already in the file.
 * <li>At its own deadline a connected task does what the file protocol says (rank 0's list if it wrote one, else
 * one listing of its own) and says {@code bye} before it closes: a close without it is a lost task, and the
 * others keep waiting until their own deadlines, as they would on the file path.
 * </ul>
 */
final class TcpBarrier {
    /** A connect that takes longer than this is treated as "cannot connect": the file protocol takes over. */
    static final long CONNECT_TIMEOUT_MILLIS = 5_000;
    static final int CONNECT_TRIES = 4;
    /** While rank 0 has not answered a connection, the outcome file is read this often. */
    static final long OK_ROUND_MILLIS = 1_000;
    /** A connected task writes its arrival file this long after connecting, or after the release if sooner. */
    static final long ARRIVAL_FILE_DELAY_NANOS = 500_000_000L;

    private final FileBarrier fb;
    private final Callable<InetAddress> bindAddress;
    private final String bindDescription;
    private final Future<Listening> listening;
    /**
     * 128 unpredictable bits: from the kernel's generator directly (one read of /dev/urandom), since seeding a
     * SecureRandom costs a cold JVM 70-100 ms of CPU; SecureRandom only where /dev/urandom cannot be read.
     */
    static byte[] token() {
        byte[] token = new byte[TcpEndpoint.TOKEN_BYTES];
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of("/dev/urandom"))) {
            if (in.readNBytes(token, 0, token.length) == token.length) {
                return token;
            }
        } catch (IOException e) {
            // below
        }
        new SecureRandom().nextBytes(token);
        return token;
    }

    /** Rank 0: tasks connected so far, for tests that wait until the others are connected. */
    private volatile int connectedCount;

    /**
     * @param bindAddress     resolves where rank 0 listens (only rank 0 calls it)
     * @param bindDescription how to name that address in a message, e.g. "--bind-address 10.0.0.1"
     */
    TcpBarrier(FileBarrier fb, Callable<InetAddress> bindAddress, String bindDescription) {
        this(fb, bindAddress, bindDescription, null);
    }

    /** @param listening rank 0's listener, started early by {@link #listen} (null: rank 0 listens on arrival) */
    TcpBarrier(FileBarrier fb, Callable<InetAddress> bindAddress, String bindDescription,
            Future<Listening> listening) {
        this.fb = fb;
        this.bindAddress = bindAddress;
        this.bindDescription = bindDescription;
        this.listening = listening;
    }

    /** Rank 0's open listener and the endpoint it published. */
    record Listening(TcpServer server, TcpEndpoint endpoint) {
    }

    /**
     * Rank 0: listens and publishes the endpoint, on a thread of its own from {@code prepare()} on. In a cold JVM
     * on a busy node, name lookup, SecureRandom and the channel classes cost up to hundreds of milliseconds; done
     * after the arrival they delayed the endpoint past the others' arrivals, and everybody then waited by files.
     * Connections that come before rank 0 arrives wait in the backlog; they are answered when it does.
     */
    static Future<Listening> listen(FileBarrier fb, Callable<InetAddress> bindAddress) {
        FutureTask<Listening> task = new FutureTask<>(() -> {
            try {
                InetAddress bind = bindAddress.call();
                byte[] token = token();
                TcpServer server = TcpServer.open(bind, fb.size(), token);
                InetAddress published = bind.isAnyLocalAddress() ? InetAddress.getLocalHost() : bind;
                TcpEndpoint ep = TcpEndpoint.listening(published.getHostAddress(), server.port(), token);
                fb.publishEndpoint(ep);
                return new Listening(server, ep);
            } catch (Exception e) {
                fb.publishEndpoint(TcpEndpoint.none("rank 0 cannot listen: " + e.getMessage()));
                throw e;
            }
        });
        Thread t = new Thread(task, "muster-tcp-listen");
        t.setDaemon(true);
        t.start();
        return task;
    }

    Outcome await(Map<String, String> releaseData) throws InterruptedException {
        return fb.rank() == 0 ? lead(releaseData) : follow();
    }

    // ---- rank 0 ----

    private Outcome lead(Map<String, String> releaseData) throws InterruptedException {
        Future<Listening> f = listening != null ? listening : listen(fb, bindAddress);
        TcpServer server;
        TcpEndpoint ep;
        try {
            Listening l = f.get();
            server = l.server();
            ep = l.endpoint();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            Log.warn("cannot listen for the TCP release on " + bindDescription + " (" + c.getClass().getSimpleName()
                    + ": " + c.getMessage() + "); every task waits by the file protocol instead: set --bind-address"
                    + " to an address of this node the others reach, or --no-tcp to silence this");
            return fb.await(releaseData);
        }
        Log.debug("listening for the TCP release on " + ep.address());
        try {
            return leadLoop(server, releaseData);
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

    private Outcome leadLoop(TcpServer server, Map<String, String> releaseData)
            throws IOException, InterruptedException {
        int size = fb.size();
        long deadline = fb.deadlineNanos();
        long ceiling = fb.settings().pollMax().toNanos();
        long backoff = Math.min(1_000_000L, ceiling);
        long now = fb.clock().nanoTime();
        long nextFiles = now;
        long nextProgress = fb.arrivedNanos() + fb.settings().progress().toNanos() / 2;
        BitSet byFile = new BitSet(size);
        byFile.set(0);
        BitSet arrived = new BitSet(size);
        while (true) {
            if (now >= nextFiles) {
                Outcome o = fb.readOutcome();
                if (o != null) {
                    return relay(server, o);
                }
                arrived.clear();
                arrived.or(byFile);
                arrived.or(server.connected());
                arrived.or(server.departed());
                if (arrived.cardinality() < size) {
                    // only groups that still miss a task that is neither connected nor seen are listed
                    fb.listArrivals(arrived);
                    byFile.or(arrived);
                }
                long pause = backoff / 2 + (long) (fb.random().nextDouble() * (backoff / 2));
                nextFiles = now + Math.max(1, pause);
                backoff = Math.min(backoff * 2, ceiling);
            }
            if (server.lost() >= 0) {
                int r = server.lost();
                return relay(server, fb.decide(Outcome.abort(r, 0, "rank " + r + "'s connection to rank 0 closed "
                        + "before the release (the task was killed, or its node failed)")));
            }
            arrived.clear();
            arrived.or(byFile);
            arrived.or(server.connected());
            arrived.or(server.departed());
            if (arrived.cardinality() == size) {
                Log.debug("all " + size + " arrived, " + server.connected().cardinality() + " by TCP (t_us=" + nowUs()
                        + ")");
                return relay(server, fb.decide(Outcome.release(0, releaseData)));
            }
            if (now >= deadline) {
                return relay(server, fb.decide(Outcome.timeout(0, fb.missing(arrived))));
            }
            if (now >= nextProgress) {
                Log.info(arrived.cardinality() + "/" + size + " arrived (" + server.connected().cardinality()
                        + " by TCP), waiting for " + FileBarrier.ranks(fb.missing(arrived)) + " ("
                        + Math.max(0, (deadline - now) / 1_000_000_000L) + " s left)");
                nextProgress = now + fb.settings().progress().toNanos();
            }
            long wait = Math.min(Math.min(nextFiles, deadline), nextProgress) - now;
            server.poll(Math.max(0, wait), now);
            connectedCount = server.connected().cardinality();
            now = fb.clock().nanoTime();
        }
    }

    /** Rank 0: how many tasks are connected and authenticated (0 before it listens). */
    int connectedCount() {
        return connectedCount;
    }

    private Outcome relay(TcpServer server, Outcome o) {
        server.send(o.encode());
        Log.debug("outcome sent to " + server.connected().cardinality() + " tasks (t_us=" + nowUs() + ")");
        fb.via(server.connected().isEmpty() ? "file" : "tcp");
        if (server.refused() > 0) {
            Log.debug("refused " + server.refused() + " TCP connections (bad hello or token, too slow, no room)");
        }
        return fb.finish(o);
    }

    /** Wall-clock microseconds, comparable with the trace's stamps across the tasks of one machine. */
    private static long nowUs() {
        java.time.Instant t = java.time.Instant.now();
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    // ---- the other ranks ----

    private Outcome follow() throws InterruptedException {
        try {
            return connectAndWait();
        } finally {
            fb.writeArrival(); // in every case, before the departure file: the clean-up and sweep expect it
        }
    }

    private Outcome connectAndWait() throws InterruptedException {
        long deadline = fb.deadlineNanos();
        long ceiling = fb.settings().pollMax().toNanos();
        long backoff = Math.min(1_000_000L, ceiling);
        boolean endpointTurn = true;
        TcpEndpoint ep = null;
        while (ep == null) {
            // one read per poll (FileBarrier.Polled): the endpoint, and every other time the outcome, so an early
            // abort is seen
            if (endpointTurn) {
                ep = fb.readEndpoint();
            } else {
                Outcome o = fb.readOutcome();
                if (o != null) {
                    return fb.finish(o);
                }
            }
            endpointTurn = !endpointTurn;
            if (ep != null) {
                break;
            }
            fb.writeArrival(); // rank 0 is not listening yet: be counted by the file (and named in timeouts)
            long now = fb.clock().nanoTime();
            if (now >= deadline) {
                return fb.finish(fb.ownTimeout());
            }
            long pause = backoff / 2 + (long) (fb.random().nextDouble() * (backoff / 2));
            fb.clock().sleep(Math.max(1, Math.min(pause, deadline - now)));
            backoff = Math.min(backoff * 2, ceiling);
        }
        Log.debug("endpoint read (t_us=" + nowUs() + ")");
        if (!ep.listening()) {
            Log.debug("rank 0 does not listen (" + ep.none() + "): waiting by the file protocol");
            fb.writeArrival();
            return fb.await(Map.of());
        }
        TcpClient client = null;
        String problem = null;
        long retry = 1_000_000L;
        for (int attempt = 0; attempt < CONNECT_TRIES && client == null; attempt++) {
            long left = (deadline - fb.clock().nanoTime()) / 1_000_000L;
            if (left <= 0) {
                break;
            }
            TcpClient.Attempt a = TcpClient.connect(ep, fb.rank(), Math.min(left, CONNECT_TIMEOUT_MILLIS));
            if (a.state() == TcpClient.State.CONNECTED) {
                // rank 0 answers once it has arrived itself: meanwhile look at the outcome file once a second,
                // so that an abort by a task that is not connected is not missed
                int ok;
                try {
                    while ((ok = a.client().awaitOk(Math.max(1, Math.min(OK_ROUND_MILLIS,
                            (deadline - fb.clock().nanoTime()) / 1_000_000L)))) == 0) {
                        fb.writeArrival(); // be counted (and named in a timeout) while rank 0 is not answering
                        Outcome o = fb.readOutcome();
                        if (o != null || fb.clock().nanoTime() >= deadline) {
                            if (o == null) {
                                a.client().bye();
                            }
                            a.client().close();
                            return fb.finish(o != null ? o : fb.ownTimeout());
                        }
                    }
                } catch (IOException e) {
                    ok = -2;
                    problem = e.getMessage();
                }
                if (ok == 1) {
                    client = a.client();
                    break;
                }
                a.client().close();
                if (ok == -2) {
                    break;
                }
                a = new TcpClient.Attempt(TcpClient.State.REFUSED, null, "rank 0 closed the connection before "
                        + "accepting it");
            }
            problem = a.problem();
            Outcome o = fb.readOutcome(); // rank 0 may have closed its listener because it has decided
            if (o != null) {
                return fb.finish(o);
            }
            if (a.state() == TcpClient.State.UNREACHABLE) {
                break;
            }
            fb.clock().sleep(retry / 2 + (long) (fb.random().nextDouble() * retry));
            retry *= 4;
        }
        if (client == null) {
            // A connection reset is also what a task sees when rank 0 released (by the arrival files) and closed its
            // listener while the task was connecting: that is no network problem, so no warning then.
            for (long pause = 10_000_000L; pause <= 40_000_000L; pause *= 2) {
                Outcome o = fb.readOutcome();
                if (o != null) {
                    Log.debug("rank 0 decided while this task was connecting (" + problem + ")");
                    return fb.finish(o);
                }
                fb.clock().sleep(pause);
            }
            Log.warn("cannot reach rank 0 at " + ep.address() + " over TCP (" + problem + "); waiting by the file "
                    + "protocol instead (check --bind-address on rank 0 and firewalls between the nodes)");
            fb.writeArrival();
            return fb.await(Map.of());
        }
        Log.debug("connected to rank 0 at " + ep.address() + " (t_us=" + nowUs() + ")");
        try (TcpClient c = client) {
            long nextProgress = fb.arrivedNanos() + fb.settings().progress().toNanos() / 2;
            // The arrival file (for timeout lists and the clean-up) waits a moment: when this task completes the
            // barrier, the release follows within milliseconds, and a file created then competes with the file
            // system work of every task it has just released (their execs); it is written after the release.
            long writeArrivalAt = fb.clock().nanoTime() + ARRIVAL_FILE_DELAY_NANOS;
            while (true) {
                long now = fb.clock().nanoTime();
                if (writeArrivalAt > 0 && now >= writeArrivalAt) {
                    fb.writeArrival();
                    writeArrivalAt = 0;
                }
                if (now >= deadline) {
                    // the file protocol's rule: rank 0's list if it wrote one, else one listing of its own; every
                    // other task keeps waiting until its own deadline, so this task says bye before it closes
                    c.bye();
                    fb.writeArrival(); // before the listing, so that a short --timeout does not name this task
                    return fb.finish(fb.ownTimeout());
                }
                if (now >= nextProgress) {
                    Log.info("waiting for the release from rank 0 over TCP (" + (deadline - now) / 1_000_000_000L
                            + " s left)");
                    nextProgress = now + fb.settings().progress().toNanos() * 3;
                }
                long until = Math.min(deadline, nextProgress);
                if (writeArrivalAt > 0) {
                    until = Math.min(until, writeArrivalAt);
                }
                long wait = Math.max(1, (until - now) / 1_000_000L);
                Outcome o = c.await(wait);
                if (o != null) {
                    fb.via("tcp");
                    return fb.finish(o);
                }
            }
        } catch (IOException e) {
            Outcome o = fb.readOutcome();
            if (o == null) {
                o = fb.decide(Outcome.abort(0, 0, "its connection closed before the release (" + e.getMessage()
                        + "): rank 0 was killed, or its node failed"));
            }
            return fb.finish(o);
        }
    }
}
