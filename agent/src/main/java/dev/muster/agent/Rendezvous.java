package dev.muster.agent;

import dev.muster.barrier.Release;
import dev.muster.core.Caller;
import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.rendezvous.CacheDir;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;
import dev.muster.task.TaskIdentity;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Rendezvous inside the JVM: {@code rendezvous=NAME[;NAME]} resolves (rank 0, before the release, which carries
 * the results to every rank) into system properties {@code muster.rdzv.<name>.url|host|port|protocol|path|job_id};
 * {@code register=NAME} registers the port the application listens on, renews the lease on a daemon thread and
 * deregisters (only while the record is still this job's) in a shutdown hook.
 */
final class Rendezvous {
    private final AgentSettings settings;
    private final TaskIdentity id;
    private final Map<String, String> env;

    Rendezvous(AgentSettings settings, TaskIdentity id, Map<String, String> env) {
        this.settings = settings;
        this.id = id;
        this.env = env;
    }

    /** Resolves every name now; the release data that {@link #publish} turns into system properties. */
    Map<String, String> resolveForRelease() {
        Map<String, String> data = new LinkedHashMap<>();
        if (settings.rendezvous().isEmpty()) {
            return data;
        }
        Store store = store();
        for (String name : settings.rendezvous()) {
            Optional<Record> r = store.resolve(name);
            if (r.isEmpty()) {
                throw new MusterException(
                        ExitCodes.NOT_RESOLVED,
                        "rendezvous name '" + name + "' is not registered "
                                + "(or has expired) under " + store.nameDir(name)
                                + "; start its provider first, or check "
                                + "cache-dir");
            }
            Record rec = r.get();
            Release.putRendezvous(
                    data, name, rec.url(), rec.host(), rec.port(), rec.protocol(), rec.path(), rec.jobId());
        }
        return data;
    }

    /** Without a barrier (one task, or under muster run): resolve here and publish. */
    void resolveAndPublish() {
        publish(resolveForRelease());
    }

    void publish(Map<String, String> data) {
        for (String name : settings.rendezvous()) {
            for (String f : Release.RDZV_FIELDS) {
                String v = Release.rendezvous(data, name, f);
                if (v != null) {
                    System.setProperty("muster.rdzv." + name + "." + f, v);
                }
            }
            Log.debug("rendezvous " + name + " -> " + Release.rendezvous(data, name, "url"));
        }
    }

    /** Registers {@code port} for {@code register=NAME} on rank 0, on a daemon thread; returns at once. */
    void startRegistrar(int port) {
        if (id.rank() != 0) {
            Log.debug("register=" + settings.register() + ": rank 0 registers for the step");
            return;
        }
        Thread t = new Thread(() -> register(port), "muster-registrar");
        t.setDaemon(true);
        t.start();
    }

    private void register(int port) {
        String name = settings.register();
        try {
            String jobId = jobId();
            Store store = store();
            String protocol = settings.protocol() == null ? "http" : settings.protocol();
            store.register(
                    name, jobId, null, id.node(), port, protocol, settings.path(), settings.ttlSeconds(), Map.of());
            Log.info("registered " + name + " as " + id.node() + ":" + port + " (ttl " + settings.ttlSeconds() + " s)");
            Thread hook = new Thread(() -> deregister(store, name, jobId), "muster-deregister");
            Runtime.getRuntime().addShutdownHook(hook);
            long every = Math.max(1, settings.ttlSeconds() / 3) * 1000L;
            while (true) {
                Thread.sleep(every);
                Optional<Record> now = store.latest(name);
                if (now.isPresent() && !now.get().jobId().equals(jobId)) {
                    Log.warn("rendezvous " + name + " now belongs to job "
                            + now.get().jobId() + "; no longer renewing it");
                    return;
                }
                store.register(
                        name, jobId, null, id.node(), port, protocol, settings.path(), settings.ttlSeconds(), Map.of());
            }
        } catch (MusterException e) {
            Log.error("register=" + name + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deregister(Store store, String name, String jobId) {
        try {
            store.deregister(name, jobId);
        } catch (RuntimeException e) {
            Log.warn("cannot deregister " + name + ": " + e.getMessage() + "; the record lapses by its ttl");
        }
    }

    private String jobId() {
        String slurm = env.get("SLURM_JOB_ID");
        if (slurm != null && !slurm.isEmpty()) {
            return slurm;
        }
        if (id.jobId() != null) {
            return id.jobId();
        }
        throw MusterException.usage("no job id to register under; run inside a Slurm job (SLURM_JOB_ID)");
    }

    /** {@code cache-dir} (or MUSTER_CACHE_DIR), else the seed's CACHE_DIR, else ~/.cache/muster, as the CLI. */
    private Store store() {
        String dir = settings.cacheDir();
        if (dir == null) {
            String seed = env.get("CACHE_DIR");
            dir = seed != null && !seed.isEmpty()
                    ? seed
                    : env.getOrDefault("HOME", System.getProperty("user.home")) + "/.cache/muster";
        }
        // signed records as muster run takes them: the key file named by MUSTER_RDZV_KEY_FILE, if any
        return new Store(
                new CacheDir(dir, Caller.self()),
                Clock.SYSTEM,
                dev.muster.rendezvous.RecordKey.choose(null, env, Caller.self()));
    }
}
