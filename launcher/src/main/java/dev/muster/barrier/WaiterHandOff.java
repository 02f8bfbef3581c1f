package dev.muster.barrier;

import dev.muster.core.Log;
import dev.muster.exec.Handover;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * A task's side of the small waiter (docs/barrier.md, "The small waiter"): who may take the rest of a TCP wait
 * over, what it is handed once the task is connected to rank 0, and how the JVM the waiter starts again ends the
 * wait exactly as the in-JVM wait would have ended.
 */
final class WaiterHandOff {
    private final FileBarrier fb;
    /** Who may take the rest of a TCP wait over, or null. */
    private Handover.Taker taker;
    /** The trace line's fields before {@code arrive_us=}, or null without a trace. */
    private String traceHead;
    /** True once the task's signal handler has begun. */
    private java.util.function.BooleanSupplier stopping;
    /** {@link #abortClaim()}, worked out when the hand-off is offered. */
    private Map<String, String> abortClaim;
    /** Rank 0: the thread that starts the clean-up process, joined before rank 0's wait is handed over. */
    private Thread cleanup;

    WaiterHandOff(FileBarrier fb) {
        this.fb = fb;
    }

    /**
     * Lets {@code t} take a connected task's wait over; {@code head}: the trace line's first fields, or null;
     * {@code stopping}: true once the task's TERM/INT/HUP handler has begun.
     */
    void offer(Handover.Taker t, String head, java.util.function.BooleanSupplier stopping) {
        taker = t;
        traceHead = head;
        this.stopping = stopping;
        this.abortClaim = t == null ? null : abortClaim(); // before the arrival, not between the ok and the exec
    }

    /** Rank 0: the thread starting the clean-up process, which must have started it before an exec. */
    void cleanup(Thread t) {
        cleanup = t;
    }

    /** Whether a small waiter may take this task's wait over once it is connected. */
    boolean offered() {
        return taker != null;
    }

    /** The trace line up to {@code release_us=}, or null without a trace. */
    String traceLine() {
        return traceHead == null ? null : traceHead + " arrive_us=" + StepTrace.micros(fb.arrivedAt());
    }

    /**
     * Lets a small waiter take the rest of the wait over, when the task has one; returns only when it has not. The
     * arrival file is written first: the waiter writes no step file but the departure. TERM, INT and HUP are
     * taken from the JVM before it ({@link Handover.Taker#prepare}), and given back if the task waits in its JVM.
     */
    void handOver(TcpClient c, long deadline, long nextProgress) {
        // what was read already would be lost to the waiter (TcpClient#awaitOk reads no further than the ok)
        int[] ports = taker == null || c.holdsMore() ? null : ports(c.channel());
        if (ports == null) {
            return;
        }
        taker.prepare();
        try {
            fb.writeArrival();
            taker.take(new Handover(
                    ports[0],
                    ports[1],
                    deadline,
                    c.heardAt(),
                    nextProgress,
                    fb.settings().progress().toNanos() * 3,
                    fb.files().departure(fb.rank()),
                    traceLine(),
                    c::quiet,
                    stopping,
                    abortClaim));
        } finally {
            taker.cancel(); // the task waits in its JVM: TERM, INT and HUP back to it
        }
    }

    /**
     * Lets a small waiter take the wait over right after the connection is made, before the hello: the waiter
     * sends it and the task arrives then (the trace's {@code arrive_us}), so that the JVM's teardown comes before the
     * arrival rather than after rank 0's {@code ok}. The waiter writes the arrival file after the {@code ok}, as
     * this JVM would. Returns only when it has not taken over: the JVM then says hello itself and waits, without a
     * second offer.
     */
    void handOverBeforeHello(TcpClient c, byte[] hello, long deadline, long nextProgress) {
        int[] ports = taker == null ? null : ports(c.channel());
        if (ports == null) {
            return;
        }
        Map<String, String> vars = new TreeMap<>(abortClaim);
        vars.put("MUSTER_WAIT_HELLO", new String(hello, StandardCharsets.US_ASCII));
        vars.put("MUSTER_WAIT_POLICY", fb.polls().waiterPolicy()); // how it reads the outcome before the ok
        // A task whose arrival file is written already (rank 0 was not listening yet) arrived then, and may have
        // been counted by it: its trace keeps that arrival. Otherwise the hello is the arrival, and the waiter
        // writes the file after it, and stamps arrive_us.
        byte[] arrival = fb.unwrittenArrival();
        if (arrival != null) {
            vars.put("MUSTER_WAIT_ARRIVAL", fb.files().arrivalFile(fb.rank()).toString());
            vars.put("MUSTER_WAIT_ARRIVAL_INFO", new String(arrival, StandardCharsets.UTF_8));
        }
        Handover.Taker t = taker;
        taker = null; // one offer: a waiter that cannot start now would not start after the ok either
        t.prepare();
        try {
            t.take(new Handover(
                    ports[0],
                    ports[1],
                    deadline,
                    fb.clock().nanoTime(),
                    nextProgress,
                    fb.settings().progress().toNanos() * 3,
                    fb.files().departure(fb.rank()),
                    arrival != null ? traceHead : traceLine(),
                    c::quiet,
                    stopping,
                    vars));
        } finally {
            t.cancel(); // the task waits in its JVM: TERM, INT and HUP back to it
        }
    }

    /**
     * Rank 0, its listener open and no connection accepted yet: lets the small waiter take the rest of the wait over
     * (docs/barrier.md, "Rank 0's wait"), listener and all; returns only when it has not (then rank 0 waits in its
     * JVM). Not with a roster, which the JVM builds from the cards. The waiter answers the hellos, counts the
     * arrivals, decides through the claim and sends the outcome as {@link TcpLeader} would, from what is handed to
     * it here: the step's size, the token, the release already encoded, where the arrival files are and how the
     * outcome file is read.
     */
    void handOverLeader(int port, byte[] token, Map<String, String> releaseData, long deadline, long nextProgress) {
        if (taker == null || releaseData.containsKey(Roster.WANTED)) {
            return;
        }
        if (cleanup != null) {
            try {
                cleanup.join(5000); // after the exec nobody would start it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        StepFiles files = fb.files();
        Map<String, String> vars = new TreeMap<>(abortClaim);
        vars.put("MUSTER_WAIT_SIZE", Integer.toString(fb.size()));
        vars.put("MUSTER_WAIT_TOKEN", java.util.HexFormat.of().formatHex(token));
        vars.put(
                "MUSTER_WAIT_RELEASE",
                new String(Outcome.release(0, releaseData).encode(), StandardCharsets.UTF_8));
        vars.put("MUSTER_WAIT_ARRIVALS", files.arrivalDir.toString());
        vars.put("MUSTER_WAIT_WIDTH", Integer.toString(files.width));
        vars.put("MUSTER_WAIT_POLICY", fb.polls().waiterPolicy());
        vars.put("MUSTER_WAIT_POLL_MAX", Long.toString(fb.settings().pollMax().toNanos()));
        taker.prepare();
        try {
            taker.take(new Handover(
                    port,
                    Handover.LISTENER,
                    deadline,
                    fb.clock().nanoTime(),
                    nextProgress,
                    fb.settings().progress().toNanos(),
                    files.departure(0),
                    traceLine(),
                    () -> true,
                    stopping,
                    vars));
        } finally {
            taker.cancel(); // rank 0 waits in its JVM: TERM, INT and HUP back to it
        }
    }

    /**
     * What the waiter needs to claim this task's abort for a signal itself, before it starts the JVM again: that
     * start takes 0.1-0.3 s, in which rank 0 could count the last arrival and release the step without this task
     * (docs/barrier.md, "The small waiter"). The claim's files, and the abort's bytes for each signal, exactly as
     * {@link StepSync}'s handler would claim them; the JVM started again then finds its own abort decided.
     */
    Map<String, String> abortClaim() {
        StepFiles files = fb.files();
        Map<String, String> env = new TreeMap<>();
        env.put("MUSTER_WAIT_CLAIM", files.claim().toString());
        env.put("MUSTER_WAIT_CLAIM_TEMP", files.claimTempPrefix(fb.rank(), dev.muster.core.Posix.pid()));
        env.put("MUSTER_WAIT_OUTCOME", files.outcomeFile.toString());
        for (String sig : dev.muster.exec.Signals.CAUGHT) {
            byte[] b = StepSync.stoppedAbort(fb.rank(), sig).encode();
            env.put("MUSTER_WAIT_ABORT_" + sig, new String(b, StandardCharsets.UTF_8));
        }
        return env;
    }

    /**
     * Ends a wait that a small waiter held, in the JVM it started again, for every {@code kind} but a signal
     * ({@link StepSync#resume} handles that first): throws the step's failure, or the internal error of a kind
     * the waiter does not hand back.
     */
    void resume(String kind, String detail) {
        switch (kind) {
            case "outcome" -> {
                byte[] b = detail.getBytes(StandardCharsets.UTF_8);
                Outcome o = Outcome.decode(b, b.length, "the TCP release");
                if (o == null) {
                    throw dev.muster.core.MusterException.internal("the waiter handed back no outcome", null);
                }
                fb.finish(o);
            }
            case "decide" -> {
                // rank 0's waiter could not claim: decided here, where a failure is named
                byte[] b = detail.getBytes(StandardCharsets.UTF_8);
                Outcome o = Outcome.decode(b, b.length, "rank 0's waiter");
                if (o == null) {
                    throw dev.muster.core.MusterException.internal("the waiter handed back no outcome", null);
                }
                fb.finish(fb.decide(o));
            }
            case "closed" -> {
                Outcome o = fb.readOutcome();
                if (o == null) {
                    o = fb.decide(Outcome.abort(
                            0,
                            0,
                            "its connection closed before the release (" + detail
                                    + "): rank 0 was killed, or its node failed"));
                }
                fb.finish(o);
            }
            case "deadline" -> {
                long silent = Long.parseLong(detail);
                if (silent > TcpHello.SILENT_NANOS) {
                    Log.error(fb.unresponsiveLeader(silent));
                }
                fb.finish(fb.ownTimeout());
            }
            default -> {}
        }
        throw dev.muster.core.MusterException.internal("the waiter handed back '" + kind + "'", null);
    }

    /** The connection's ports, this node's then rank 0's, or null when the channel cannot tell. */
    static int[] ports(java.nio.channels.SocketChannel ch) {
        try {
            return new int[] {
                ((java.net.InetSocketAddress) ch.getLocalAddress()).getPort(),
                ((java.net.InetSocketAddress) ch.getRemoteAddress()).getPort()
            };
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }
}
