package dev.muster.cli;

import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.json.Json;
import dev.muster.rendezvous.CacheDir;
import dev.muster.core.Caller;
import dev.muster.rendezvous.ClientEnv;
import dev.muster.rendezvous.Names;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * {@code muster rendezvous register|resolve|list|prune|deregister|env|wait}. The first four are hpc-compose's
 * {@code rendezvous} commands, output and exit codes included (0 ok, 1 anything that went wrong, 2 usage), so
 * scripts written for one work with the other. The rest use muster's own exit-code table (DESIGN §7).
 */
public final class RendezvousCommand {
    static final String HELP = """
            Usage: muster rendezvous <command> [options]

            Records that let one job find the endpoint another job provides, under a shared cache directory
            (compatible with hpc-compose's rendezvous records).

            Commands:
              register NAME --host H --port P [--job-id ID] [--service S] [--protocol P] [--path /P]
                            [--ttl-seconds N] [--metadata K=V]...
                                  record this job as the provider of NAME
              resolve NAME        show the live record of NAME
              list                show every live record
              prune               remove expired records
              deregister NAME [--job-id ID]
                                  remove NAME's latest record if it is still this job's
              env NAME...         print export lines of the HPC_COMPOSE_RDZV_* variables for the names
              wait NAME... [--timeout S]
                                  block until every name is live

            Options:
              --cache-dir DIR     the shared cache (default: $MUSTER_CACHE_DIR, else $CACHE_DIR,
                                  else ~/.cache/muster)
              --format text|json  output format (default text)
              --job-id ID         default $SLURM_JOB_ID
              --protocol P        default http
              --ttl-seconds N     lifetime of the record, default 3600
              --timeout S         for wait: how long, e.g. 30s, 500ms, 2m (default 30s)
              --help              this text

            Exit codes: register, resolve, list, prune: 0 ok, 1 not found, invalid or corrupt record, unusable
            cache directory, 2 usage. deregister, env, wait: 0 ok, 2 usage, 65 corrupt record, 69 not resolved
            (before the deadline), 77 unusable cache directory.
            """;

    /** hpc-compose's CLI reports every failure other than usage as 1. */
    private static final int COMPAT_FAILURE = 1;

    private final Map<String, String> env;
    private final PrintStream out;
    private final Clock clock;
    private final Supplier<Caller> caller;

    public RendezvousCommand(Map<String, String> env) {
        this(env, System.out, Clock.SYSTEM, Caller::self);
    }

    public RendezvousCommand(Map<String, String> env, PrintStream out, Clock clock, Supplier<Caller> caller) {
        this.env = env;
        this.out = out;
        this.clock = clock;
        this.caller = caller;
    }

    /** The options of every subcommand; each subcommand refuses the ones it does not take. */
    private static final class Options {
        String cacheDir;
        boolean json;
        String host;
        Integer port;
        String jobId;
        String service;
        String protocol = "http";
        String path;
        long ttlSeconds = 3600;
        final Map<String, String> metadata = new TreeMap<>();
        Duration timeout = Duration.ofSeconds(30);
        final List<String> names = new ArrayList<>();
    }

    public int call(List<String> args) {
        if (args.isEmpty()) {
            throw MusterException.usage("rendezvous: missing command; use register, resolve, list, prune, "
                    + "deregister, env or wait (see muster rendezvous --help)");
        }
        String sub = args.get(0);
        if (sub.equals("--help") || sub.equals("-h") || sub.equals("help")) {
            out.print(HELP);
            return ExitCodes.OK;
        }
        List<String> rest = args.subList(1, args.size());
        switch (sub) {
            case "register":
            case "resolve":
            case "list":
            case "prune":
                return compat(sub, rest);
            case "deregister":
            case "env":
            case "wait":
                return own(sub, rest);
            case "registrar":
                // internal: started by run --register before its exec
                return new RegistrarCommand(env).call(rest);
            default:
                throw MusterException.usage("rendezvous: unknown command '" + sub + "'; use register, resolve, list, "
                        + "prune, deregister, env or wait");
        }
    }

    /** hpc-compose's commands: usage errors stay 2, every other failure becomes 1, as hpc-compose exits. */
    private int compat(String sub, List<String> rest) {
        Options o = parse(sub, rest);
        if (o == null) {
            return ExitCodes.OK;
        }
        try {
            switch (sub) {
                case "register":
                    return register(o);
                case "resolve":
                    return resolve(o);
                case "list":
                    return list(o);
                default:
                    return prune(o);
            }
        } catch (MusterException e) {
            throw new MusterException(COMPAT_FAILURE, e.getMessage(), e.getCause());
        }
    }

    private int own(String sub, List<String> rest) {
        Options o = parse(sub, rest);
        if (o == null) {
            return ExitCodes.OK;
        }
        switch (sub) {
            case "deregister":
                return deregister(o);
            case "env":
                return env(o);
            default:
                return waitFor(o);
        }
    }

    private Options parse(String sub, List<String> tokens) {
        String cmd = "rendezvous " + sub;
        Options o = new Options();
        boolean registerFlags = sub.equals("register");
        boolean jobIdFlag = registerFlags || sub.equals("deregister");
        Args a = new Args(cmd, tokens);
        while (true) {
            while (a.moreOptions()) {
                String f = a.option();
                switch (f) {
                    case "--help", "-h" -> {
                        a.noValue(f);
                        out.print(HELP);
                        return null;
                    }
                    case "--verbose", "-v" -> {
                        a.noValue(f);
                        Log.level(Log.Level.VERBOSE);
                    }
                    case "--quiet", "-q" -> {
                        a.noValue(f);
                        Log.level(Log.Level.QUIET);
                    }
                    case "--cache-dir" -> o.cacheDir = a.value(f);
                    case "--format" -> {
                        String v = a.value(f);
                        if (!v.equals("text") && !v.equals("json")) {
                            throw MusterException.usage(cmd + ": --format '" + v + "' is not text or json");
                        }
                        o.json = v.equals("json");
                    }
                    default -> {
                        if (jobIdFlag && f.equals("--job-id")) {
                            o.jobId = a.value(f);
                        } else if (registerFlags) {
                            registerOption(cmd, f, a, o);
                        } else if (sub.equals("wait") && f.equals("--timeout")) {
                            o.timeout = a.duration(f, "s");
                        } else {
                            throw a.unknown(f);
                        }
                    }
                }
            }
            if (a.sawDoubleDash()) {
                o.names.addAll(a.rest());
                break;
            }
            List<String> r = a.rest();
            if (r.isEmpty()) {
                break;
            }
            o.names.add(r.get(0));
            a = new Args(cmd, r.subList(1, r.size()));
        }
        switch (sub) {
            case "register", "resolve", "deregister" -> {
                if (o.names.size() != 1) {
                    throw MusterException.usage(cmd + ": needs exactly one NAME" + (o.names.isEmpty() ? ""
                            : ", got " + String.join(" ", o.names)) + "; see muster rendezvous --help");
                }
            }
            case "list", "prune" -> {
                if (!o.names.isEmpty()) {
                    throw MusterException.usage(cmd + ": takes no NAME, got " + String.join(" ", o.names));
                }
            }
            default -> {
                if (o.names.isEmpty()) {
                    throw MusterException.usage(cmd + ": needs at least one NAME; see muster rendezvous --help");
                }
            }
        }
        if (registerFlags) {
            if (o.host == null) {
                throw MusterException.usage(cmd + ": --host is required");
            }
            if (o.port == null) {
                throw MusterException.usage(cmd + ": --port is required");
            }
        }
        if (jobIdFlag && o.jobId == null) {
            String slurm = env.get("SLURM_JOB_ID");
            if (slurm == null || slurm.isEmpty()) {
                throw MusterException.usage(cmd + ": no job id; pass --job-id ID or run inside a Slurm job "
                        + "(SLURM_JOB_ID)");
            }
            o.jobId = slurm;
        }
        return o;
    }

    private static void registerOption(String cmd, String f, Args a, Options o) {
        switch (f) {
            case "--host" -> o.host = a.value(f);
            case "--port" -> o.port = a.integer(f, 0, 65535);
            case "--service" -> o.service = a.value(f);
            case "--protocol" -> o.protocol = a.value(f);
            case "--path" -> o.path = a.value(f);
            case "--ttl-seconds" -> {
                String v = a.value(f);
                try {
                    o.ttlSeconds = Long.parseLong(v.trim());
                } catch (NumberFormatException e) {
                    o.ttlSeconds = -1;
                }
                if (o.ttlSeconds < 0) {
                    throw MusterException.usage(cmd + ": --ttl-seconds '" + v + "' is not a whole number of "
                            + "seconds");
                }
            }
            case "--metadata" -> {
                String v = a.value(f);
                int eq = v.indexOf('=');
                if (eq <= 0) {
                    throw MusterException.usage(cmd + ": --metadata '" + v + "' is not KEY=VALUE");
                }
                o.metadata.put(v.substring(0, eq), v.substring(eq + 1));
            }
            default -> throw a.unknown(f);
        }
    }

    /** {@code --cache-dir}, else {@code MUSTER_CACHE_DIR}, else the seed's {@code CACHE_DIR}, else ~/.cache/muster. */
    private Store store(Options o) {
        String dir = CacheDir.choose(o.cacheDir, env);
        return new Store(new CacheDir(dir, caller.get()), clock);
    }

    private int register(Options o) {
        Store store = store(o);
        Store.Registration reg = store.register(o.names.get(0), o.jobId, o.service, o.host, o.port, o.protocol,
                o.path, o.ttlSeconds, o.metadata);
        Record r = reg.record();
        if (o.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("schema_version", Record.SCHEMA_VERSION);
            m.put("cache_dir", store.cache().given());
            m.put("record_path", reg.historyFile().toString());
            m.put("record", r.toMap());
            out.print(Json.pretty(m) + "\n");
        } else {
            out.print("registered rendezvous: " + r.name() + "\n"
                    + "url: " + r.url() + "\n"
                    + "job id: " + r.jobId() + "\n"
                    + "record: " + reg.historyFile() + "\n");
        }
        return ExitCodes.OK;
    }

    private int resolve(Options o) {
        Store store = store(o);
        String name = o.names.get(0);
        Record r = store.resolve(name).orElseThrow(() -> new MusterException(COMPAT_FAILURE,
                "no live rendezvous record named '" + name + "' found under " + store.cache().rendezvousDir()));
        if (o.json) {
            out.print(r.toJson() + "\n");
        } else {
            out.print(describe(r, store.nowSeconds()));
        }
        return ExitCodes.OK;
    }

    private static String describe(Record r, long now) {
        return "name: " + r.name() + "\n"
                + "url: " + r.url() + "\n"
                + "host: " + r.host() + "\n"
                + "port: " + r.port() + "\n"
                + "job id: " + r.jobId() + "\n"
                + (r.hasService() ? "service: " + r.service() + "\n" : "")
                + "expires in: " + r.secondsLeft(now) + "s\n";
    }

    private int list(Options o) {
        Store store = store(o);
        List<Record> records = store.list();
        if (!o.json && records.isEmpty()) {
            out.print("no live rendezvous records found under " + store.cache().rendezvousDir() + "\n");
        } else {
            printRecords(o, records);
        }
        return ExitCodes.OK;
    }

    private int prune(Options o) {
        Store store = store(o);
        List<Path> removed = store.prune();
        if (o.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("schema_version", Record.SCHEMA_VERSION);
            m.put("cache_dir", store.cache().given());
            m.put("removed", removed.stream().map(Path::toString).toList());
            out.print(Json.pretty(m) + "\n");
        } else {
            StringBuilder b = new StringBuilder("removed " + removed.size() + " rendezvous record(s)\n");
            for (Path p : removed) {
                b.append("  ").append(p).append('\n');
            }
            out.print(b);
        }
        return ExitCodes.OK;
    }

    private int deregister(Options o) {
        Store store = store(o);
        String name = o.names.get(0);
        Store.Deregistration d = store.deregister(name, o.jobId);
        if (o.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("schema_version", Record.SCHEMA_VERSION);
            m.put("cache_dir", store.cache().given());
            m.put("name", name);
            m.put("job_id", o.jobId);
            m.put("result", d.name().toLowerCase(java.util.Locale.ROOT));
            out.print(Json.pretty(m) + "\n");
            return ExitCodes.OK;
        }
        switch (d) {
            case REMOVED -> out.print("deregistered rendezvous: " + name + "\n");
            case NOT_OURS -> Log.info("left rendezvous '" + name + "' in place: its latest record belongs to "
                    + "another job than " + o.jobId);
            default -> Log.info("no rendezvous record named '" + name + "' under " + store.cache().rendezvousDir()
                    + "; nothing to remove");
        }
        return ExitCodes.OK;
    }

    private int env(Options o) {
        for (String n : o.names) {
            Names.validate(n);
        }
        ClientEnv.refuseTokenCollisions(o.names);
        Store store = store(o);
        List<Record> resolved = new ArrayList<>();
        for (String n : o.names) {
            Optional<Record> r = store.resolve(n);
            if (r.isEmpty()) {
                throw new MusterException(ExitCodes.NOT_RESOLVED, "no live rendezvous record named '" + n
                        + "' found under " + store.cache().rendezvousDir()
                        + "; start its provider or check --cache-dir");
            }
            resolved.add(r.get());
        }
        printEnv(ClientEnv.of(resolved), o.json);
        return ExitCodes.OK;
    }

    private void printEnv(Map<String, String> vars, boolean json) {
        if (json) {
            out.print(Json.pretty(vars) + "\n");
            return;
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : vars.entrySet()) {
            b.append("export ").append(e.getKey()).append('=').append(shellQuote(e.getValue())).append('\n');
        }
        out.print(b);
    }

    /** Single quotes keep everything literal in sh; a quote inside is closed, escaped and reopened. */
    static String shellQuote(String v) {
        return "'" + v.replace("'", "'\\''") + "'";
    }

    /**
     * Polls until every name is live or the deadline passes. The name's directory is opened before each read:
     * on NFS a "no such file" is cached until the parent directory's attributes expire, and opening the directory
     * revalidates them, so a record that appeared is seen on the next poll instead of up to a minute later.
     */
    private int waitFor(Options o) {
        for (String n : o.names) {
            Names.validate(n);
        }
        ClientEnv.refuseTokenCollisions(o.names);
        Store store = store(o);
        long start = clock.nanoTime();
        long deadline = start + o.timeout.toNanos();
        long interval = 50_000_000L;
        Map<String, Record> found = new LinkedHashMap<>();
        boolean announced = false;
        while (true) {
            for (String n : o.names) {
                if (!found.containsKey(n)) {
                    revalidate(store, n);
                    store.resolve(n).ifPresent(r -> found.put(n, r));
                }
            }
            if (found.size() == new java.util.HashSet<>(o.names).size()) {
                break;
            }
            long left = deadline - clock.nanoTime();
            if (left <= 0) {
                List<String> missing = o.names.stream().filter(n -> !found.containsKey(n)).distinct().toList();
                throw new MusterException(ExitCodes.NOT_RESOLVED, "rendezvous " + (missing.size() == 1 ? "name '"
                        + missing.get(0) + "'" : "names '" + String.join("', '", missing) + "'")
                        + " not live under " + store.cache().rendezvousDir() + " after " + seconds(o.timeout)
                        + "; start the provider, check --cache-dir, or raise --timeout");
            }
            if (!announced) {
                Log.info("waiting up to " + seconds(o.timeout) + " for rendezvous " + String.join(", ", o.names)
                        + " under " + store.cache().rendezvousDir());
                announced = true;
            }
            try {
                // jitter, so that many clients started together do not poll the metadata server in lock-step
                long jitter = ThreadLocalRandom.current().nextLong(interval / 5 + 1);
                clock.sleep(Math.min(interval + jitter, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MusterException(130, "interrupted while waiting for rendezvous "
                        + String.join(", ", o.names));
            }
            interval = Math.min(500_000_000L, interval * 3 / 2);
        }
        printRecords(o, o.names.stream().distinct().map(found::get).toList());
        return ExitCodes.OK;
    }

    /** Records as {@code list} prints them: a JSON array, or {@code <name> <url> job=<id>} lines. */
    private void printRecords(Options o, List<Record> records) {
        if (o.json) {
            out.print(Json.pretty(records.stream().map(Record::toMap).toList()) + "\n");
            return;
        }
        StringBuilder b = new StringBuilder();
        for (Record r : records) {
            b.append(r.name()).append(' ').append(r.url()).append(" job=").append(r.jobId()).append('\n');
        }
        out.print(b);
    }

    private static void revalidate(Store store, String name) {
        Path dir = store.nameDir(name);
        Path probe = Files.isDirectory(dir) ? dir : store.cache().rendezvousDir();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(probe)) {
            ds.iterator().hasNext();
        } catch (IOException | RuntimeException e) {
            // not there yet: resolve says so
        }
    }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
