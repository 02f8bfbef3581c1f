package dev.muster.cli;

import dev.muster.barrier.Outcome;
import dev.muster.barrier.Release;
import dev.muster.barrier.StepSync;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.exec.CommandLookup;
import dev.muster.exec.Exec;
import dev.muster.exec.Signals;
import dev.muster.service.StartUp;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code muster run [options] -- cmd args...}: identity, pre-flight (can the command start?), barrier,
 * environment, exec.
 */
final class RunCommand {
    private final Map<String, String> env;

    RunCommand(Map<String, String> env) {
        this.env = env;
    }

    int call(List<String> argv) {
        Options o = new Options(env);
        boolean noBarrier = false;
        boolean dryRun = false;
        boolean torchrun = false;
        RendezvousFlags rf = new RendezvousFlags();
        StartFlags sf = new StartFlags();
        Args a = new Args("run", argv);
        while (a.moreOptions()) {
            String flag = a.option();
            if (o.read(flag, a) || rf.read(flag, a) || sf.read(flag, a)) {
                continue;
            }
            switch (flag) {
                case "--no-barrier" -> {
                    a.noValue(flag);
                    noBarrier = true;
                }
                case "--dry-run" -> {
                    a.noValue(flag);
                    dryRun = true;
                }
                case "--torchrun-env" -> {
                    a.noValue(flag);
                    torchrun = true;
                }
                case "--help", "-h" -> {
                    System.out.print(Help.RUN);
                    return ExitCodes.OK;
                }
                default -> throw a.unknown(flag);
            }
        }
        List<String> command = a.rest();
        if (command.isEmpty()) {
            throw MusterException.usage("run: missing command after --; write muster run [options] -- cmd args...");
        }
        o.applyLogLevel();
        rf.check();
        sf.check();
        // only now, and only with a rendezvous option, are the rendezvous classes loaded
        RunRendezvous rdzv = rf.client() || rf.provider() ? new RunRendezvous(rf, env) : null;
        if (rdzv != null) {
            rdzv.validate();
            // rank 0 arrives only once the names resolved: the others wait that much longer
            o.timeout = o.timeout.plus(rdzv.longestWait());
        }

        TaskIdentity id = IdentityResolver.resolve(env);
        Log.rank(id.rank());
        // only with --start or --arrive-when are the service classes loaded
        StartUp startUp = sf.used() && !dryRun ? new StartUp(sf.commands, sf.probes,
                sf.arriveTimeout != null ? sf.arriveTimeout : o.timeout, Clock.SYSTEM) : null;
        if (sf.used() && dryRun) {
            Log.info("--dry-run: not starting " + sf.commands.size() + " --start command(s), not probing "
                    + sf.probes.size() + " --arrive-when probe(s)");
        }
        boolean registers = rdzv != null && rdzv.registersHere(id);
        Map<String, String> clientEnv = Map.of();
        CommandLookup.Result program = CommandLookup.find(command.get(0), env);
        // Building the native exec handles costs tens of milliseconds in a cold JVM: do it while waiting, not
        // after the release.
        Thread prepare = new Thread(Exec::prepare, "muster-exec-prepare");
        prepare.setDaemon(true);
        prepare.start();
        String key = StepSync.key(id, o.name);
        Outcome release = null;
        boolean barrier = false;
        if (!id.inStep()) {
            if (id.launcher().equals("slurm-batch") && !noBarrier && rdzv == null) {
                Log.info("this is the batch script, a single process: no barrier here; start the tasks with srun "
                        + "to synchronise them");
            }
        } else if (noBarrier) {
            Log.debug("--no-barrier: not waiting for the other tasks");
        } else if (key.equals(env.get("MUSTER_BARRIER_KEY"))) {
            Log.debug("this step's barrier was already passed (MUSTER_BARRIER_KEY=" + key + ")");
        } else {
            barrier = true;
        }
        if (!barrier) {
            if (!program.ok()) {
                throw new MusterException(program.code(), program.problem());
            }
            if (registers) {
                rdzv.checkProvider(id);
            }
            if (rf.client()) {
                clientEnv = rdzv.resolve();
            }
            if (startUp != null) {
                startServices(startUp, null, id);
            }
        } else {
            StepSync sync = new StepSync(id, key, SyncRoot.resolve(o.syncDir, env).prepare(), o.settings(),
                    o.transport, o.trace,
                    env);
            sync.prepare();
            if (!program.ok()) {
                sync.abort(program.code(), program.problem());
                throw new MusterException(program.code(), program.problem());
            }
            if (startUp != null) {
                startServices(startUp, sync, id);
            }
            Map<String, String> data = Map.of();
            try {
                if (registers) {
                    rdzv.checkProvider(id);
                }
                if (id.rank() == 0) {
                    data = releaseData(id, torchrun);
                    if (rf.client()) {
                        // resolved before arriving, so that every rank exports the same endpoints
                        Release.putEnv(data, rdzv.resolve());
                    }
                }
            } catch (MusterException e) {
                sync.abort(e.status(), e.getMessage());
                stop(startUp);
                throw e;
            }
            try {
                release = sync.await(data);
            } catch (RuntimeException e) {
                stop(startUp);
                throw e;
            }
        }
        if (!program.ok()) {
            throw new MusterException(program.code(), program.problem());
        }
        Map<String, String> exported = exports(id, release, key, torchrun);
        exported.putAll(clientEnv);
        Map<String, String> childEnv = new TreeMap<>(env);
        childEnv.putAll(exported);
        if (dryRun) {
            join(prepare);
            if (o.transport.mode() == dev.muster.barrier.Transport.Mode.TCP) {
                // scripts/muster trains its start-up archive with a dry run: load what the TCP path needs then
                StepSync.warmUpTcp();
            }
            StringBuilder b = new StringBuilder();
            for (Map.Entry<String, String> e : exported.entrySet()) {
                b.append("export ").append(e.getKey()).append('=').append(Shell.quote(e.getValue())).append('\n');
            }
            b.append("exec");
            for (String c : command) {
                b.append(' ').append(Shell.quote(c));
            }
            System.out.print(b.append('\n'));
            if (registers) {
                Log.info(rdzv.describeProvider(id));
            }
            return ExitCodes.OK;
        }
        try {
            if (registers) {
                // before the exec: afterwards no muster code runs in this process
                rdzv.startRegistrar(id);
            }
            join(prepare);
            // Java 17-21: muster waits for the program, then stops the services itself; after a true exec their
            // supervisors see the task end
            return Exec.replace(program.path(), command, childEnv, startUp == null ? null : startUp::stop);
        } catch (RuntimeException e) {
            stop(startUp);
            throw e;
        }
    }

    /**
     * Starts the services and waits for the probes. A failure stops the services and aborts the step with the
     * reason; a signal meanwhile does the same and then ends muster by that signal, as while waiting at the
     * barrier.
     */
    private void startServices(StartUp startUp, StepSync sync, TaskIdentity id) {
        AtomicReference<String> signal = new AtomicReference<>();
        Thread waiting = Thread.currentThread();
        for (String sig : Signals.CAUGHT) {
            Signals.handle(sig, s -> {
                signal.compareAndSet(null, s);
                waiting.interrupt();
            });
        }
        try {
            // the services get the task's identity: a port of BASE + MUSTER_RANK is written in the command
            Map<String, String> serviceEnv = new TreeMap<>(env);
            serviceEnv.put("MUSTER_RANK", Integer.toString(id.rank()));
            serviceEnv.put("MUSTER_SIZE", Integer.toString(id.size()));
            serviceEnv.put("MUSTER_LOCAL_RANK", Integer.toString(id.localRank()));
            serviceEnv.put("MUSTER_NODE", id.node());
            startUp.start(serviceEnv, Posix.pid());
            startUp.awaitReady(() -> signal.get() != null);
        } catch (MusterException e) {
            String sig = signal.get();
            MusterException cause = sig == null ? e : new MusterException(128 + Signals.number(sig), "rank "
                    + id.rank() + " was stopped by SIG" + sig + " while its --start services were starting");
            stop(startUp);
            if (sync != null) {
                sync.abort(cause.status(), cause.getMessage());
            }
            if (sig != null) {
                Log.error("stopped by SIG" + sig + " while waiting for --arrive-when");
                Signals.dieBy(Signals.number(sig));
            }
            throw cause;
        } finally {
            Thread.interrupted();
            Signals.restoreOriginal(Signals.CAUGHT);
        }
    }

    private static void stop(StartUp startUp) {
        if (startUp != null) {
            startUp.stop();
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What rank 0 hands every task in its release. */
    private static Map<String, String> releaseData(TaskIdentity id, boolean torchrun) {
        Map<String, String> data = new LinkedHashMap<>();
        data.put(Release.MASTER_ADDR, masterAddress(id));
        if (torchrun) {
            data.put(Release.MASTER_PORT, Integer.toString(freePort()));
        }
        return data;
    }

    /** Rank 0's address as the other nodes reach it: Slurm's node name; a local run's host name. */
    private static String masterAddress(TaskIdentity id) {
        return id.launcher().equals("local") ? "127.0.0.1" : id.node();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw MusterException.internal("cannot find a free port for MASTER_PORT: " + e, e);
        }
    }

    private Map<String, String> exports(TaskIdentity id, Outcome release, String key, boolean torchrun) {
        Map<String, String> out = new LinkedHashMap<>();
        String master = release != null ? release.data().getOrDefault(Release.MASTER_ADDR, id.node())
                : masterAddress(id);
        out.put("MUSTER_RANK", Integer.toString(id.rank()));
        out.put("MUSTER_SIZE", Integer.toString(id.size()));
        out.put("MUSTER_LOCAL_RANK", Integer.toString(id.localRank()));
        out.put("MUSTER_NODE", id.node());
        out.put("MUSTER_MASTER_ADDR", master);
        if (release != null) {
            out.put("MUSTER_BARRIER_KEY", key);
        }
        if (torchrun) {
            out.put("RANK", Integer.toString(id.rank()));
            out.put("WORLD_SIZE", Integer.toString(id.size()));
            out.put("LOCAL_RANK", Integer.toString(id.localRank()));
            if (id.localSize() > 0) {
                out.put("LOCAL_WORLD_SIZE", Integer.toString(id.localSize()));
            } else {
                Log.warn("cannot tell how many tasks run on this node: LOCAL_WORLD_SIZE is not set");
            }
            out.put("MASTER_ADDR", master);
            String port = release != null ? release.data().get(Release.MASTER_PORT) : null;
            out.put("MASTER_PORT", port != null ? port : Integer.toString(freePort()));
        }
        if (release != null) {
            out.putAll(Release.env(release.data()));
        }
        return out;
    }
}
