package dev.muster.barrier;

import dev.muster.core.Log;
import java.io.IOException;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
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
 * <li>At its own deadline a connected task does what the file protocol says (the outcome if one is decided, else
 * a timeout with one listing of its own, claimed: {@link FileBarrier#ownTimeout}) and says {@code bye} before it
 * closes: a close without it is a lost task. Rank 0 reads the claimed timeout from the file and sends it on.
 * </ul>
 */
final class TcpBarrier implements Barrier {
    private final FileBarrier fb;
    private final Callable<InetAddress> bindAddress;
    private final String bindDescription;
    /** Rank 0's listener, started early by {@link #prepare} or {@link #listen} (null: rank 0 listens on arrival). */
    private PendingListener listening;

    private final TcpLeader leader;

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

    /**
     * @param bindAddress     resolves where rank 0 listens (only rank 0 calls it)
     * @param bindDescription how to name that address in a message, e.g. "--bind-address 10.0.0.1"
     */
    TcpBarrier(FileBarrier fb, Callable<InetAddress> bindAddress, String bindDescription) {
        this.fb = fb;
        this.bindAddress = bindAddress;
        this.bindDescription = bindDescription;
        this.leader = fb.rank() == 0 ? new TcpLeader(fb) : null;
    }

    /** Rank 0's open listener and the endpoint it published. */
    record Listening(TcpServer server, TcpEndpoint endpoint) {}

    /**
     * Rank 0's listener while its thread opens it. Rank 0 may decide by the file protocol before it is open
     * ({@link TcpLeader}); it then abandons it, and the listener is closed as soon as it opens, not left behind.
     */
    static final class PendingListener extends FutureTask<Listening> {
        private final Object lock = new Object();
        private boolean abandoned;

        PendingListener(Callable<Listening> open) {
            super(open);
        }

        @Override
        protected void set(Listening l) {
            synchronized (lock) {
                if (abandoned) {
                    l.server().close();
                }
                super.set(l);
            }
        }

        /** Closes the listener now if it is open, else as soon as it opens. */
        void abandon() {
            synchronized (lock) {
                abandoned = true;
                if (isDone() && !isCancelled()) {
                    try {
                        get().server().close();
                    } catch (ExecutionException | InterruptedException e) {
                        // it never opened: nothing to close
                    }
                }
            }
        }
    }

    /**
     * The other ranks load the client classes on a thread of their own while the step directory is prepared;
     * rank 0 starts listening right after it (see {@link #listen}).
     */
    @Override
    public void prepare() {
        if (fb.rank() != 0) {
            Thread warm = new Thread(TcpWarmUp::client, "muster-tcp-warm-up");
            warm.setDaemon(true);
            warm.start();
        }
        fb.prepare();
        if (fb.rank() == 0) {
            listening = listen(fb, bindAddress, bindDescription);
        }
    }

    /** Rank 0 writes its arrival file at once; the others' follows their TCP hello (see {@link TcpFollower}). */
    @Override
    public void arrive() {
        if (fb.rank() == 0) {
            fb.arrive();
        } else {
            fb.markArrived();
        }
    }

    /**
     * Rank 0: listens and publishes the endpoint, on a thread of its own from {@code prepare()} on. In a cold JVM
     * on a busy node, name lookup, SecureRandom and the channel classes cost up to hundreds of milliseconds; done
     * after the arrival they delayed the endpoint past the others' arrivals, and everybody then waited by files.
     * Connections that come before rank 0 arrives wait in the backlog; they are answered when it does.
     *
     * <p>A listener that cannot open says so here, before the endpoint file tells the others: rank 0 may decide by
     * the files before it looks at its listener again, and a wrong {@code --bind-address} must be named whenever it
     * is found, not only when rank 0 happened to be waiting for it.
     */
    static PendingListener listen(FileBarrier fb, Callable<InetAddress> bindAddress, String bindDescription) {
        PendingListener task = new PendingListener(() -> {
            try {
                InetAddress bind = bindAddress.call();
                byte[] token = token();
                TcpServer server = TcpServer.open(bind, fb.size(), token);
                InetAddress published = bind.isAnyLocalAddress() ? InetAddress.getLocalHost() : bind;
                TcpEndpoint ep = TcpEndpoint.listening(published.getHostAddress(), server.port(), token);
                fb.polls().publishEndpoint(ep);
                return new Listening(server, ep);
            } catch (Exception e) {
                Log.warn("cannot listen for the TCP release on " + bindDescription + " ("
                        + e.getClass().getSimpleName()
                        + ": " + e.getMessage() + "); every task waits by the file protocol instead: set"
                        + " --bind-address to an address of this node the others reach, or --no-tcp to silence this");
                fb.polls().publishEndpoint(TcpEndpoint.none("rank 0 cannot listen: " + e.getMessage()));
                throw e;
            }
        });
        Thread t = new Thread(task, "muster-tcp-listen");
        t.setDaemon(true);
        t.start();
        return task;
    }

    @Override
    public Outcome await(Map<String, String> releaseData) throws InterruptedException {
        if (leader == null) {
            return new TcpFollower(fb).await();
        }
        return leader.await(listening != null ? listening : listen(fb, bindAddress, bindDescription), releaseData);
    }

    /** Every outcome, an abort too, is decided through the file protocol's claim. */
    @Override
    public void abort(int code, String reason) {
        fb.abort(code, reason);
    }

    @Override
    public void depart() {
        fb.depart();
    }

    /** Rank 0: how many tasks are connected and authenticated (0 before it listens). */
    int connectedCount() {
        return leader == null ? 0 : leader.connectedCount();
    }

    /** Rank 0: bytes sent with the release (outcome and streamed roster, to every connected task). */
    long sentBytes() {
        return leader == null ? 0 : leader.sentBytes();
    }

    /** Wall-clock microseconds, comparable with the trace's stamps across the tasks of one machine. */
    static long nowUs() {
        java.time.Instant t = java.time.Instant.now();
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }
}
