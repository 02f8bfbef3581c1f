package dev.muster.barrier;

import dev.muster.core.Backoff;
import dev.muster.core.Log;
import java.io.IOException;
import java.util.Map;

/**
 * The side of the TCP release of every rank but 0 (see {@link TcpBarrier}): polls the endpoint file (and, every
 * other time, the outcome file, so that an early abort is seen) with backoff and jitter, connects, and then makes
 * no file-system call until the outcome arrives. If rank 0's connection closes first, it decides an abort naming
 * rank 0, unless an outcome is already in the file. Whenever TCP cannot be used, it waits by the file protocol.
 */
final class TcpFollower {
    /** A connect that takes longer than this is treated as "cannot connect": the file protocol takes over. */
    static final long CONNECT_TIMEOUT_MILLIS = 5_000;

    static final int CONNECT_TRIES = 4;
    /** While rank 0 has not answered a connection, the outcome file is read this often. */
    static final long OK_ROUND_MILLIS = 1_000;
    /** A connected task writes its arrival file this long after connecting, or after the release if sooner. */
    static final long ARRIVAL_FILE_DELAY_NANOS = 500_000_000L;

    private final FileBarrier fb;
    private final long deadline;
    /** This task's outcome once learned while connecting (what {@link FileBarrier#finish} returned). */
    private Outcome finished;
    /** Why the last connection attempt failed, for the message when TCP is given up. */
    private String problem;
    /** The task has said why it waits by the file protocol (once). */
    private boolean warned;

    TcpFollower(FileBarrier fb) {
        this.fb = fb;
        this.deadline = fb.deadlineNanos();
    }

    Outcome await() throws InterruptedException {
        try {
            return connectAndWait();
        } finally {
            fb.writeArrival(); // in every case, before the departure file: the clean-up and sweep expect it
        }
    }

    private Outcome connectAndWait() throws InterruptedException {
        TcpEndpoint ep = endpoint();
        if (finished != null) {
            return finished;
        }
        Log.debug("endpoint read (t_us=" + TcpBarrier.nowUs() + ")");
        if (!ep.listening()) {
            Log.debug("rank 0 does not listen (" + ep.none() + "): waiting by the file protocol");
            fb.writeArrival();
            return fb.await(Map.of());
        }
        TcpClient client = connect(ep);
        if (finished != null) {
            return finished;
        }
        if (client == null) {
            return byFiles(ep);
        }
        Log.debug("connected to rank 0 at " + ep.address() + " (t_us=" + TcpBarrier.nowUs() + ")");
        return awaitRelease(client);
    }

    /** Rank 0's endpoint once published; null when the outcome came first ({@link #finished} is then set). */
    private TcpEndpoint endpoint() throws InterruptedException {
        Backoff backoff = fb.backoff(fb.settings().pollMax().toNanos());
        boolean endpointTurn = true;
        while (true) {
            // one read per poll: the endpoint, and every other time the outcome, so an early abort is seen
            if (endpointTurn) {
                TcpEndpoint ep = fb.polls().endpoint();
                if (ep != null) {
                    return ep;
                }
            } else {
                Outcome o = fb.readOutcome();
                if (o != null) {
                    finished = fb.finish(o);
                    return null;
                }
            }
            endpointTurn = !endpointTurn;
            fb.writeArrival(); // rank 0 is not listening yet: be counted by the file (and named in timeouts)
            long now = fb.clock().nanoTime();
            if (now >= deadline) {
                finished = fb.finish(fb.ownTimeout());
                return null;
            }
            fb.clock().sleep(backoff.next(deadline - now));
        }
    }

    /**
     * Up to {@link #CONNECT_TRIES} attempts; the client rank 0 accepted, or null (then {@link #finished} is set if
     * the outcome came meanwhile, else {@link #problem} says why).
     */
    private TcpClient connect(TcpEndpoint ep) throws InterruptedException {
        Backoff retry = fb.retries(1_000_000L, 4); // pauses of about 1, 4 and 16 ms between the attempts
        for (int attempt = 0; attempt < CONNECT_TRIES; attempt++) {
            if (attempt > 0) {
                fb.clock().sleep(retry.next()); // between attempts, not after the last: files take over at once
            }
            long left = (deadline - fb.clock().nanoTime()) / 1_000_000L;
            if (left <= 0) {
                break;
            }
            byte[] hello = TcpHello.of(fb.rank(), ep.token(), fb.stepRoster().cardBytes());
            // the first attempt of a task whose wait a small waiter may take: the waiter sends the hello, so that
            // the JVM's teardown comes before this task arrives, not between the last arrival and the programs
            boolean waiterSays =
                    attempt == 0 && fb.handOff().offered() && fb.stepRoster().cardBytes() == null;
            TcpClient.Attempt a =
                    TcpClient.connect(ep, waiterSays ? null : hello, Math.min(left, CONNECT_TIMEOUT_MILLIS));
            if (waiterSays && a.state() == TcpClient.State.CONNECTED) {
                fb.handOff().handOverBeforeHello(a.client(), hello, deadline, nextProgress());
                if (!a.client().hello(hello)) { // the JVM waits: it says hello itself
                    a.client().close();
                    a = new TcpClient.Attempt(TcpClient.State.UNREACHABLE, null, "cannot send the hello");
                }
            }
            if (a.state() == TcpClient.State.CONNECTED) {
                int ok = awaitOk(a.client());
                if (ok == 1) {
                    return a.client();
                }
                if (finished != null) {
                    return null;
                }
                a.client().close();
                if (ok == -2) {
                    return null;
                }
                a = new TcpClient.Attempt(
                        TcpClient.State.REFUSED, null, "rank 0 closed the connection before " + "accepting it");
            }
            problem = a.problem();
            Log.debug("connection attempt " + (attempt + 1) + " to rank 0 failed: " + problem);
            if (silentNetwork(problem)) {
                // no answer at all (a firewall that drops, no route): no decision of rank 0 explains that
                warnUnreachable(ep);
            }
            Outcome o = fb.readOutcome(); // rank 0 may have closed its listener because it has decided
            if (o != null) {
                finished = fb.finish(o);
                return null;
            }
            if (a.state() == TcpClient.State.UNREACHABLE) {
                break;
            }
        }
        return null;
    }

    /**
     * Rank 0 answers a connection once it has arrived itself: meanwhile the outcome file is read once a second,
     * so that an abort by a task that is not connected is not missed. Returns 1 when accepted, -1 when refused,
     * -2 on an I/O error ({@link #problem} set); 0 when the outcome or the deadline came first ({@link #finished}
     * set, the connection closed).
     */
    private int awaitOk(TcpClient c) throws InterruptedException {
        try {
            int ok;
            while ((ok = c.awaitOk(Math.max(
                            1, Math.min(OK_ROUND_MILLIS, (deadline - fb.clock().nanoTime()) / 1_000_000L))))
                    == 0) {
                Log.debug("no answer to the hello yet");
                fb.writeArrival(); // be counted (and named in a timeout) while rank 0 is not answering
                Outcome o = fb.readOutcome();
                if (o != null || fb.clock().nanoTime() >= deadline) {
                    if (o == null) {
                        c.bye();
                    }
                    c.close();
                    finished = fb.finish(o != null ? o : fb.ownTimeout());
                    return 0;
                }
            }
            return ok;
        } catch (IOException e) {
            problem = e.getMessage();
            return -2;
        }
    }

    /**
     * TCP could not be used. A connection reset is also what a task sees when rank 0 released (by the arrival
     * files) and closed its listener while the task was connecting: that is no network problem, so no warning then.
     */
    private Outcome byFiles(TcpEndpoint ep) throws InterruptedException {
        // a refusal or reset may only mean that rank 0 decided and closed its listener meanwhile: look first
        for (long pause = 10_000_000L; !warned && pause <= 40_000_000L; pause *= 2) {
            Outcome o = fb.readOutcome();
            if (o != null) {
                Log.debug("rank 0 decided while this task was connecting (" + problem + ")");
                return fb.finish(o);
            }
            fb.clock().sleep(pause);
        }
        warnUnreachable(ep);
        fb.writeArrival();
        return fb.await(Map.of());
    }

    /** Says once why this task waits by the file protocol although rank 0 listens. */
    private void warnUnreachable(TcpEndpoint ep) {
        if (warned) {
            return;
        }
        warned = true;
        Log.warn("cannot reach rank 0 at " + ep.address() + " over TCP (" + problem + "); waiting by the file "
                + "protocol instead (check --bind-address on rank 0 and firewalls between the nodes)");
    }

    /** A connection attempt that got no answer at all, as behind a firewall that drops or with no route. */
    static boolean silentNetwork(String problem) {
        return problem != null
                && (problem.startsWith("no connection within")
                        || problem.contains("No route")
                        || problem.contains("unreachable"));
    }

    /** When a connected task first says that it is still waiting. */
    private long nextProgress() {
        return fb.arrivedNanos() + fb.settings().progress().toNanos() / 2;
    }

    /** Connected: waits for the outcome over TCP alone, up to this task's deadline. */
    private Outcome awaitRelease(TcpClient client) throws InterruptedException {
        try (TcpClient c = client) {
            long nextProgress = nextProgress();
            // The arrival file (for timeout lists and the clean-up) waits a moment: when this task completes the
            // barrier, the release follows within milliseconds, and a file created then competes with the file
            // system work of every task it has just released (their execs); it is written after the release.
            long writeArrivalAt = fb.clock().nanoTime() + ARRIVAL_FILE_DELAY_NANOS;
            fb.handOff().handOver(c, deadline, nextProgress);
            while (true) {
                long now = fb.clock().nanoTime();
                if (writeArrivalAt > 0 && now >= writeArrivalAt) {
                    fb.writeArrival();
                    writeArrivalAt = 0;
                }
                if (now >= deadline) {
                    // the file protocol's rule: the outcome if decided, else a timeout of its own, claimed; bye
                    // first, so that its close is not taken for a lost task
                    c.bye();
                    fb.writeArrival(); // before the listing, so that a short --timeout does not name this task
                    if (c.silentNanos() > TcpHello.SILENT_NANOS) {
                        Log.error(fb.unresponsiveLeader(c.silentNanos()));
                    }
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
                Outcome o = c.await(Math.max(1, (until - now) / 1_000_000L));
                if (o != null) {
                    fb.via("tcp");
                    if (c.roster() != null) {
                        fb.stepRoster().receivedRoster(c.roster());
                    }
                    return fb.finish(o);
                }
            }
        } catch (IOException e) {
            Outcome o = fb.readOutcome();
            if (o == null) {
                o = fb.decide(Outcome.abort(
                        0,
                        0,
                        "its connection closed before the release (" + e.getMessage()
                                + "): rank 0 was killed, or its node failed"));
            }
            return fb.finish(o);
        }
    }
}
