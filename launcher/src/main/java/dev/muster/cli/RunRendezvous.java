package dev.muster.cli;

import dev.muster.core.Caller;
import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.probe.HttpProbe;
import dev.muster.probe.Probe;
import dev.muster.probe.TcpProbe;
import dev.muster.rendezvous.CacheDir;
import dev.muster.rendezvous.ClientEnv;
import dev.muster.rendezvous.ClientWait;
import dev.muster.rendezvous.Names;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.RecordKey;
import dev.muster.rendezvous.Store;
import dev.muster.task.IdentityResolver;
import dev.muster.task.JobStatus;
import dev.muster.task.TaskIdentity;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rendezvous part of {@code run}: a client's wait (rank 0, before it arrives at the barrier) and a provider's
 * registrar (started on the registering rank just before the exec). Only loaded when a rendezvous option is given.
 */
final class RunRendezvous {
    /** Short, so that a provider that died without deregistering disappears within minutes (DESIGN §5). */
    static final long DEFAULT_TTL_SECONDS = 120;

    private final RendezvousFlags f;
    private final Map<String, String> env;
    private final String cacheDir;
    private RecordKey key;
    private boolean keyRead;

    RunRendezvous(RendezvousFlags f, Map<String, String> env) {
        this.f = f;
        this.env = env;
        this.cacheDir = CacheDir.choose(f.cacheDir, env);
    }

    /** The project's key ({@code --key-file}, else MUSTER_RDZV_KEY_FILE), read and checked once; null: none. */
    private RecordKey key() {
        if (!keyRead) {
            key = RecordKey.choose(f.keyFile, env, Caller.self());
            keyRead = true;
        }
        return key;
    }

    /** Checks names and values on every rank, before anything waits, so that a typo fails at once. */
    void validate() {
        f.check();
        List<String> names = new ArrayList<>(f.names.keySet());
        for (String n : names) {
            Names.validate(n);
        }
        ClientEnv.refuseTokenCollisions(names);
        key(); // a missing or unsafe key file fails every rank at once, not the registrar later
        if (f.provider()) {
            Names.validate(f.register);
            if (f.path != null && !f.path.isEmpty() && !f.path.startsWith("/")) {
                throw MusterException.usage("run: --path '" + f.path + "' must be empty or start with '/'");
            }
            if (f.ready != null) {
                Probe.parse("--ready", f.ready);
            }
        }
    }

    /** How long the client part may take at most: the other ranks wait that much longer at the barrier. */
    Duration longestWait() {
        return f.client() ? f.clientTimeout : Duration.ZERO;
    }

    /**
     * Waits for every name at once; returns the {@code HPC_COMPOSE_RDZV_*} variables.
     *
     * @throws MusterException 69 naming the required names that did not resolve and the cache directory
     */
    Map<String, String> resolve() {
        List<ClientWait.Request> requests = new ArrayList<>();
        f.names.forEach((n, required) -> requests.add(new ClientWait.Request(n, required, f.clientTimeout)));
        Store store = new Store(new CacheDir(cacheDir, Caller.self()), Clock.SYSTEM, key());
        ClientWait wait = new ClientWait(
                store, Clock.SYSTEM, JobStatus.slurm(), f.verify ? RunRendezvous::verify : null, new SecureRandom());
        ClientWait.Result result = wait.await(requests);
        List<String> missing = new ArrayList<>();
        for (Map.Entry<ClientWait.Request, String> e : result.missing().entrySet()) {
            String line = "'" + e.getKey().name() + "' (" + e.getValue() + ")";
            if (e.getKey().required()) {
                missing.add(line);
            } else {
                Log.warn("optional rendezvous " + line + " not resolved under "
                        + store.cache().rendezvousDir() + " within " + seconds(f.clientTimeout)
                        + "; starting without it");
            }
        }
        if (!missing.isEmpty()) {
            throw new MusterException(
                    ExitCodes.NOT_RESOLVED,
                    "rendezvous " + String.join(", ", missing)
                            + " not resolved under " + store.cache().rendezvousDir() + " within "
                            + seconds(f.clientTimeout)
                            + "; start the provider, check --cache-dir (or CACHE_DIR), or raise --rendezvous-timeout");
        }
        for (Record r : result.resolved()) {
            Log.info("rendezvous " + r.name() + ": " + r.url() + " (job " + r.jobId() + ")");
        }
        return ClientEnv.of(result.resolved());
    }

    /** {@code --verify}: an HTTP answer (any status below 500) for http(s), else a TCP connection. */
    private static String verify(Record r, Duration timeout) {
        String p = r.protocol().toLowerCase(Locale.ROOT);
        if (p.equals("http") || p.equals("https")) {
            return HttpProbe.answering(r.url()).attempt(timeout);
        }
        return new TcpProbe("tcp:" + r.host() + ":" + r.port(), r.host(), r.port()).attempt(timeout);
    }

    /** The provider's record values, checked on the registering rank before the barrier (bad input aborts the step). */
    void checkProvider(TaskIdentity id) {
        Record.create(
                f.register, jobId(id), f.service, host(), f.port, f.protocol, f.path, 0, ttl(), cacheDir, f.metadata);
        new CacheDir(cacheDir, Caller.self()).checkIfPresent();
    }

    boolean registersHere(TaskIdentity id) {
        if (f.registerRank >= id.size()) {
            throw MusterException.usage("run: --register-rank " + f.registerRank + " is not a rank of this step (size "
                    + id.size() + "); use 0.." + (id.size() - 1));
        }
        return f.provider() && id.rank() == f.registerRank;
    }

    /**
     * Starts the registrar, detached: {@code sh -c '"$@" &'} leaves it orphaned, so it is no child of the program
     * (no stray SIGCHLD, no zombie) and, under proctrack/linuxproc, not killed with the step's process tree when
     * the task ends, before it has deregistered. Its stdin and stdout are /dev/null; its stderr is the task's,
     * which srun waits on: the registrar leaves within a fraction of a second of the task (at most
     * {@link RegistrarCommand#GRACE_MS}).
     */
    void startRegistrar(TaskIdentity id) {
        String host = host();
        List<String> cmd = registrarCommand(id, host);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        try {
            Process sh = pb.start();
            int code = sh.waitFor();
            if (code != 0) {
                throw new MusterException(
                        ExitCodes.INTERNAL,
                        "cannot start the rendezvous registrar (sh exited " + code
                                + "); please report it with the output of --verbose");
            }
        } catch (IOException e) {
            throw new MusterException(
                    ExitCodes.INTERNAL,
                    "cannot start the rendezvous registrar: " + e.getMessage()
                            + "; check that /bin/sh and java are there",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Log.debug("registrar started for rendezvous " + f.register + " (waits for " + readyProbe(host) + ")");
    }

    /** The registrar's command line: this JVM's, with every flag of {@code --register} passed on. */
    private List<String> registrarCommand(TaskIdentity id, String host) {
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "\"$@\" </dev/null >/dev/null &", "sh"));
        List<String> jvm = JvmPrefix.of();
        cmd.add(jvm.get(0));
        // a small heap: the registrar holds a record or two; later flags (the user's) still win
        cmd.add("-Xmx32m");
        cmd.addAll(jvm.subList(1, jvm.size()));
        ProcessHandle self = ProcessHandle.current();
        cmd.addAll(List.of(
                "rendezvous",
                "registrar",
                "--name",
                f.register,
                "--job-id",
                jobId(id),
                "--host",
                host,
                "--port",
                Integer.toString(f.port),
                "--protocol",
                f.protocol,
                "--ttl-seconds",
                Long.toString(ttl()),
                "--ready",
                readyProbe(host),
                "--cache-dir",
                cacheDir,
                "--pid",
                Long.toString(self.pid()),
                "--pid-start",
                Long.toString(
                        self.info().startInstant().map(i -> i.toEpochMilli()).orElse(-1L)),
                "--rank",
                Integer.toString(id.rank())));
        if (key() != null) {
            cmd.addAll(List.of("--key-file", key().file().toString()));
        }
        if (f.path != null) {
            cmd.addAll(List.of("--path", f.path));
        }
        if (f.service != null) {
            cmd.addAll(List.of("--service", f.service));
        }
        if (f.readyTimeout != null) {
            cmd.addAll(List.of("--ready-timeout", f.readyTimeout.toMillis() + "ms"));
        }
        for (Map.Entry<String, String> e : f.metadata.entrySet()) {
            cmd.addAll(List.of("--metadata", e.getKey() + "=" + e.getValue()));
        }
        if (Log.verbose()) {
            cmd.add("--verbose");
        } else if (Log.level() == Log.Level.QUIET) {
            cmd.add("--quiet");
        }
        return cmd;
    }

    String describeProvider(TaskIdentity id) {
        return "rendezvous " + f.register + " would be registered as " + f.protocol + "://" + host() + ":" + f.port
                + (f.path == null ? "" : f.path) + " once " + readyProbe(host()) + " passes (dry run: no registrar)";
    }

    private long ttl() {
        return f.ttlSeconds != null ? f.ttlSeconds : DEFAULT_TTL_SECONDS;
    }

    /** Clients connect to host:port, so by default readiness is checked the same way. */
    private String readyProbe(String host) {
        if (f.ready != null) {
            return f.ready;
        }
        return "tcp:" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + f.port;
    }

    private String host() {
        if (f.host != null) {
            return f.host;
        }
        String node = env.get("SLURMD_NODENAME");
        if (node != null && !node.isEmpty()) {
            return node;
        }
        return IdentityResolver.resolve(Map.of()).node();
    }

    private String jobId(TaskIdentity id) {
        String job = env.get("SLURM_JOB_ID");
        if (job != null && !job.isEmpty()) {
            return job;
        }
        if (id.jobId() != null && !id.jobId().isEmpty()) {
            return id.jobId();
        }
        throw MusterException.usage("run: --register needs a job id for the record: run inside a Slurm job "
                + "(SLURM_JOB_ID) or under muster local");
    }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
