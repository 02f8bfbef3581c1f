package dev.muster.cli;

import dev.muster.core.Caller;
import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.Processes;
import dev.muster.exec.Signals;
import dev.muster.probe.Probe;
import dev.muster.rendezvous.CacheDir;
import dev.muster.rendezvous.Registrar;
import dev.muster.rendezvous.Store;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code muster rendezvous registrar ...}: internal, started by {@code run --register} just before it execs (see
 * {@link RunRendezvous#startRegistrar}). Watches the task's process by PID and start time (after exec the program
 * has muster's PID; the start time tells a reused PID apart), so it ends with the task and never outlives it by
 * more than {@link #GRACE_MS}.
 */
final class RegistrarCommand implements Command {
    /** Once the task is gone (or a TERM came), the registrar is gone within this, finished or not. */
    static final long GRACE_MS = 5000;

    @Override
    public String name() {
        return "rendezvous registrar";
    }

    @Override
    public String help() {
        return "muster rendezvous registrar: internal, started by muster run --register\n";
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        Flags fl = Flags.read(new Args(name(), argv));
        ProcessHandle task = task(fl.pid, fl.pidStart);
        // the environment is not read here: the task passes the key it checked, or none
        Store store = new Store(
                new CacheDir(fl.cacheDir, Caller.self()),
                Clock.SYSTEM,
                fl.keyFile == null
                        ? null
                        : dev.muster.rendezvous.RecordKey.load(java.nio.file.Path.of(fl.keyFile), Caller.self()));
        Registrar.Spec spec = new Registrar.Spec(
                fl.name,
                fl.jobId,
                fl.service,
                fl.host,
                fl.port,
                fl.protocol,
                fl.path,
                fl.ttl,
                fl.metadata,
                Probe.parse("--ready", fl.ready),
                fl.readyTimeout);
        Registrar registrar = new Registrar(store, Clock.SYSTEM, spec, () -> alive(task));
        for (String sig : Signals.CAUGHT) {
            Signals.handle(sig, s -> {
                Log.debug("SIG" + s + ": deregistering");
                watchdog();
                registrar.stop();
            });
        }
        Registrar.End end = registrar.run();
        Log.debug("registrar done: " + end);
        return ExitCodes.OK;
    }

    /** The flags {@code muster run --register} passes, as read. */
    private static final class Flags {
        String name = null;
        String jobId = null;
        String service = null;
        String host = null;
        int port = -1;
        String protocol = "http";
        String path = null;
        long ttl = RunRendezvous.DEFAULT_TTL_SECONDS;
        Map<String, String> metadata = new TreeMap<>();
        String ready = null;
        Duration readyTimeout = null;
        String cacheDir = null;
        String keyFile = null;
        long pid = -1;
        long pidStart = -1;

        static Flags read(Args a) {
            Flags fl = new Flags();
            while (a.moreOptions()) {
                String f = a.option();
                switch (f) {
                    case "--name" -> fl.name = a.value(f);
                    case "--job-id" -> fl.jobId = a.value(f);
                    case "--service" -> fl.service = a.value(f);
                    case "--host" -> fl.host = a.value(f);
                    case "--port" -> fl.port = a.integer(f, 1, 65535);
                    case "--protocol" -> fl.protocol = a.value(f);
                    case "--path" -> fl.path = a.value(f);
                    case "--ttl-seconds" -> fl.ttl = a.integer(f, 1, Integer.MAX_VALUE);
                    case "--metadata" -> {
                        String v = a.value(f);
                        int eq = v.indexOf('=');
                        fl.metadata.put(v.substring(0, Math.max(0, eq)), v.substring(eq + 1));
                    }
                    case "--ready" -> fl.ready = a.value(f);
                    case "--ready-timeout" -> fl.readyTimeout = a.duration(f, "s");
                    case "--cache-dir" -> fl.cacheDir = a.value(f);
                    case "--key-file" -> fl.keyFile = a.value(f);
                    case "--pid" -> fl.pid = Long.parseLong(a.value(f));
                    case "--pid-start" -> fl.pidStart = Long.parseLong(a.value(f));
                    case "--rank" -> Log.rank(a.integer(f, 0, Integer.MAX_VALUE));
                    case "--verbose" -> Log.level(Log.Level.VERBOSE);
                    case "--quiet" -> Log.level(Log.Level.QUIET);
                    default -> throw a.unknown(f);
                }
            }
            a.end();
            return fl;
        }
    }

    /**
     * The task's process, or null when it is gone already. {@link ProcessHandle#isAlive} compares the start time
     * it saw first, so a PID reused later reads as not alive; comparing with the start time muster passed catches a
     * reuse before this process looked.
     */
    private static ProcessHandle task(long pid, long startMillis) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty()) {
            return null;
        }
        if (startMillis >= 0) {
            Optional<java.time.Instant> started = h.get().info().startInstant();
            if (started.isPresent() && Math.abs(started.get().toEpochMilli() - startMillis) > 1000) {
                return null;
            }
        }
        Thread watch = new Thread(
                () -> {
                    while (alive(h.get())) {
                        try {
                            Thread.sleep(200);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    watchdog();
                },
                "muster-registrar-watch");
        watch.setDaemon(true);
        watch.start();
        return h.get();
    }

    private static final java.util.concurrent.atomic.AtomicLong ZOMBIE_SINCE =
            new java.util.concurrent.atomic.AtomicLong(-1);

    /**
     * Alive, and not a zombie for more than a second. A program that exited is a zombie until its parent reaps it,
     * and its endpoint is gone already; but a JVM that execs from a thread other than its first also shows its PID as
     * a zombie for a moment (the kernel ends the first thread and hands the PID to the exec'ing one), and the
     * registrar is started just before that exec.
     */
    private static boolean alive(ProcessHandle task) {
        if (task == null || !task.isAlive()) {
            return false;
        }
        Optional<Boolean> zombie = Processes.zombie(task.pid());
        if (zombie.isEmpty()) {
            return task.isAlive();
        }
        if (!zombie.get()) {
            ZOMBIE_SINCE.set(-1);
            return true;
        }
        long now = System.nanoTime();
        ZOMBIE_SINCE.compareAndSet(-1, now);
        return now - ZOMBIE_SINCE.get() < 1_000_000_000L;
    }

    private static final java.util.concurrent.atomic.AtomicBoolean WATCHDOG =
            new java.util.concurrent.atomic.AtomicBoolean();

    /** Ends this process {@link #GRACE_MS} after the task, whatever the shared file system does meanwhile. */
    private static void watchdog() {
        if (!WATCHDOG.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(
                () -> {
                    try {
                        Thread.sleep(GRACE_MS);
                    } catch (InterruptedException e) {
                        // halt anyway
                    }
                    Log.warn("registrar still busy " + GRACE_MS / 1000 + "s after the task ended; leaving, the record "
                            + "lapses by its TTL");
                    Runtime.getRuntime().halt(ExitCodes.INTERNAL);
                },
                "muster-registrar-watchdog");
        t.setDaemon(true);
        t.start();
    }
}
