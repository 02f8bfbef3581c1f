package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.Log;
import dev.muster.exec.Handover;
import dev.muster.exec.Signals;
import dev.muster.task.TaskIdentity;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * One task's part in a step barrier, as {@code run}, {@code barrier} and the agent use it: prepares the step
 * directory, arrives, waits with TERM/INT/HUP turned into an abort marker, departs, and records a trace line.
 */
public final class StepSync {
    private final TaskIdentity id;
    private final String key;
    /** The file protocol's side of this task: the step directory, times and trace fields. */
    private final FileBarrier files;

    private final Barrier barrier;
    private final BarrierSettings settings;
    private final Path trace;
    private volatile boolean livesOn;
    private volatile boolean lastDepartureCleans;
    /** Set by a signal handler before it writes this task's abort: the waiting thread then leaves the report to it. */
    private volatile boolean stopping;

    private final Transport transport;
    private final Map<String, String> env;
    private byte[] roster;

    /** With the transport the environment asks for ({@code MUSTER_TCP}, {@code MUSTER_BIND_ADDRESS}). */
    public StepSync(
            TaskIdentity id, String key, Path root, BarrierSettings settings, Path trace, Map<String, String> env) {
        this(id, key, root, settings, Transport.fromEnv(env), trace, env);
    }

    public StepSync(
            TaskIdentity id,
            String key,
            Path root,
            BarrierSettings settings,
            Transport transport,
            Path trace,
            Map<String, String> env) {
        this.id = id;
        this.key = key;
        this.settings = settings;
        this.trace = trace;
        // a one-task step has nobody to tell: listening would only cost start-up (the agent's gate measures it)
        this.transport = transport.mode() == Transport.Mode.TCP && id.size() == 1
                ? new Transport(Transport.Mode.FILE, transport.bindAddress())
                : transport;
        this.env = env;
        // Jitter needs no cryptographic randomness, and seeding a SecureRandom costs a cold JVM ~70-100 ms.
        Random random = new Random(System.nanoTime() ^ (dev.muster.core.Posix.pid() << 16) ^ id.rank());
        this.files = new FileBarrier(
                root, key, id.rank(), id.size(), id.node(), settings, Clock.SYSTEM, random, StepLayout.fromSlurm(env));
        Callable<InetAddress> bind = new Callable<>() { // a class, not a lambda: see await()
                    @Override
                    public InetAddress call() throws java.net.UnknownHostException {
                        return bindAddress();
                    }
                };
        String where =
                transport.bindAddress() != null ? "--bind-address " + transport.bindAddress() : "this node's address";
        this.barrier = this.transport.barrier(files, bind, where);
    }

    /**
     * Declares that this process lives on after the release (the agent, unlike an exec): rank 0 then cleans up on
     * a daemon thread of its own instead of starting a helper process, which costs a cold JVM tens of milliseconds.
     */
    public StepSync livesOn() {
        livesOn = true;
        return this;
    }

    /**
     * Declares that no helper process may do the clean-up (the OCI hook: in a runtime's createContainer stage a
     * helper would lose the host's file system at the container's pivot_root). Instead every task, after its
     * departure, lists departure/ once, and the one that sees all departures removes the step directory. Delays
     * nobody by more than one directory listing; a listing that misses a departure leaves the work to sweep.
     */
    public StepSync lastDepartureCleans() {
        lastDepartureCleans = true;
        return this;
    }

    /** The key, with a barrier name appended when several barriers share one step. */
    public static String key(TaskIdentity id, String name) {
        return name == null ? id.key() : id.key() + ".n-" + name;
    }

    public String key() {
        return key;
    }

    public Path dir() {
        return files.dir();
    }

    public void prepare() {
        barrier.prepare();
    }

    /**
     * Sets this task's roster card (docs/roster.md); call before {@link #await}. Throws the usage error (exit 2)
     * of a card over its limits: the caller aborts the step with it, as with a command that cannot start.
     */
    public void card(Card c) {
        files.stepRoster().card(c);
        files.stepRoster().nodeRosterDir(Roster.nodeDir(env));
    }

    /** After {@link #await}: the roster's JSON, or null when the release carries none. */
    public byte[] roster() {
        return roster;
    }

    /**
     * Loads and links the classes of both sides of the TCP path (channels, selector, address resolution) without
     * touching any step. {@code run --dry-run} calls it, because that is how scripts/muster trains its start-up
     * archive: the classes then come from the archive in every task instead of being parsed by each cold JVM.
     */
    public static void warmUpTcp() {
        TcpWarmUp.all();
    }

    private InetAddress bindAddress() throws java.net.UnknownHostException {
        return TcpEndpoint.bindAddress(transport.bindAddress(), id.launcher(), id.node(), env);
    }

    /**
     * Lets {@code taker} take the rest of the wait over once this task is connected to rank 0 over TCP (a small
     * waiter: docs/barrier.md, "The small waiter"). Only for a process that execs after the release.
     */
    public void handOver(Handover.Taker taker) {
        files.handOff()
                .offer(taker, trace == null ? null : StepTrace.head(id), new java.util.function.BooleanSupplier() {
                    @Override
                    public boolean getAsBoolean() {
                        return stopping;
                    }
                });
    }

    /**
     * Ends a wait that a small waiter held, in the JVM it started again, exactly as the in-JVM wait would have
     * ended: {@code kind} says what the waiter saw, {@code detail} the rest. Returns never: it throws the step's
     * failure, or dies by the signal.
     */
    public void resume(String kind, String detail) {
        files.markArrived(); // no deadline is counted any more: only what the failure says needs it
        if (kind.equals("signal")) {
            stopped(detail);
        }
        files.handOff().resume(kind, detail);
    }

    public void abort(int code, String reason) {
        barrier.abort(code, reason);
    }

    /** Arrives and waits; returns the release or throws the step's failure. */
    public Outcome await(Map<String, String> releaseData) {
        // classes rather than lambdas on this path: each lambda costs the agent's cold JVM a millisecond in premain
        java.util.function.Consumer<String> stop = new java.util.function.Consumer<>() {
            @Override
            public void accept(String sig) {
                stopped(sig);
            }
        };
        for (String sig : Signals.CAUGHT) {
            Signals.handle(sig, stop);
        }
        barrier.arrive();
        if (transport.mode() == Transport.Mode.TCP && !files.handOff().offered()) { // (a waiter runs none of it)
            TcpWarmUp.releaseInBackground(); // while this task waits, not after the last arrival
        }
        Thread cleanup = startCleanup();
        Outcome release;
        try {
            release = barrier.await(releaseData);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw dev.muster.core.MusterException.internal("interrupted while waiting", e);
        } catch (dev.muster.core.MusterException e) {
            if (stopping) {
                // the outcome is this task's own abort: the signal handler prints the one line and dies by the
                // signal; reporting it here too would print a second line
                awaitTheHandler();
            }
            throw e;
        }
        try {
            // before the departure: the clean-up removes the step directory, roster file included, after it
            roster = files.roster(release);
        } finally {
            barrier.depart();
        }
        if (lastDepartureCleans && barrier.cleanedUp()) {
            Cleanup.inProcess(files.dir(), id.size(), java.time.Duration.ZERO);
        }
        Log.debug("released (" + files.via() + ")");
        StepTrace.write(trace, id, files);
        if (id.rank() == 0 && livesOn && barrier.cleanedUp()) {
            cleanUpInProcess();
        }
        if (cleanup != null) {
            try {
                // after an exec nobody would start it; normally it was started long ago, while waiting
                cleanup.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return release;
    }

    /**
     * Rank 0 of a process that execs: starts the clean-up process on a thread of its own (starting a process costs
     * a cold JVM tens of milliseconds: while waiting, not before); null for the others.
     */
    private Thread startCleanup() {
        if (id.rank() != 0 || livesOn || lastDepartureCleans || !barrier.cleanedUp()) {
            return null;
        }
        Thread t = new Thread(() -> Cleanup.start(files.dir(), id.size(), settings.timeout()), "muster-cleanup");
        t.setDaemon(true);
        t.start();
        files.handOff().cleanup(t); // joined before rank 0's wait is handed over: nobody starts it after the exec
        return t;
    }

    /** Rank 0 of a process that lives on: removes the step directory on a daemon thread once all departed. */
    private void cleanUpInProcess() {
        Thread t = new Thread(
                new Runnable() {
                    @Override
                    public void run() {
                        Cleanup.inProcess(files.dir(), id.size(), settings.timeout());
                    }
                },
                "muster-cleanup");
        t.setDaemon(true);
        t.start();
        // a short-lived application would otherwise end the JVM between the rename and the deletion
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        new Runnable() {
                            @Override
                            public void run() {
                                try {
                                    t.join(500);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            }
                        },
                        "muster-cleanup-exit"));
    }

    /** A signal while waiting: tell the others first, then die of it as the program would have. */
    private void stopped(String sig) {
        stopping = true;
        int n = Signals.number(sig);
        try {
            Outcome o = stoppedAbort(id.rank(), sig);
            barrier.abort(o.code(), o.reason());
        } catch (RuntimeException e) {
            // dying anyway; the others time out instead
        }
        Log.error("stopped by SIG" + sig + " while waiting for the barrier");
        Signals.dieBy(n);
    }

    /** The abort of a task stopped by {@code sig} while waiting (also claimed by a small waiter: WaiterHandOff). */
    static Outcome stoppedAbort(int rank, String sig) {
        return Outcome.abort(
                rank, 128 + Signals.number(sig), "rank " + rank + " was stopped by SIG" + sig + " while waiting");
    }

    /** Gives the signal handler time to end the process; returns only if it has not after 10 s. */
    private static void awaitTheHandler() {
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
