package dev.muster.cli;

import dev.muster.core.MusterException;
import dev.muster.rendezvous.CacheDir;
import dev.muster.rendezvous.RecordKey;
import dev.muster.rendezvous.Store;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one {@code rendezvous} subcommand was told: the options every subcommand takes ({@code --cache-dir},
 * {@code --format}), those only some take (each subcommand reads its own), and the names, which may stand
 * between the options as hpc-compose allows.
 */
final class RendezvousArgs {
    String cacheDir;
    String keyFile;
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

    /** Reads {@code tokens} for subcommand {@code sub}; the common flags come back, --help among them. */
    static CommonFlags parse(RendezvousSubcommand sub, List<String> tokens, RendezvousArgs o) {
        String cmd = sub.name();
        CommonFlags common = new CommonFlags();
        FlagReader reader = (f, a) -> switch (f) {
            case "--cache-dir" -> {
                o.cacheDir = a.value(f);
                yield true;
            }
            case "--key-file" -> {
                o.keyFile = a.value(f);
                yield true;
            }
            case "--format" -> {
                String v = a.value(f);
                if (!v.equals("text") && !v.equals("json")) {
                    throw MusterException.usage(cmd + ": --format '" + v + "' is not text or json");
                }
                o.json = v.equals("json");
                yield true;
            }
            default -> sub.option(f, a, o);
        };
        Args a = new Args(cmd, tokens);
        while (true) {
            common.readMore(a, reader);
            if (common.help) {
                return common;
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
        return common;
    }

    /** Fails unless exactly one NAME was given. */
    void oneName(String cmd) {
        if (names.size() != 1) {
            throw MusterException.usage(cmd + ": needs exactly one NAME"
                    + (names.isEmpty() ? "" : ", got " + String.join(" ", names)) + "; see muster rendezvous --help");
        }
    }

    void noName(String cmd) {
        if (!names.isEmpty()) {
            throw MusterException.usage(cmd + ": takes no NAME, got " + String.join(" ", names));
        }
    }

    void someNames(String cmd) {
        if (names.isEmpty()) {
            throw MusterException.usage(cmd + ": needs at least one NAME; see muster rendezvous --help");
        }
    }

    /** The job id: {@code --job-id}, else Slurm's. */
    void requireJobId(String cmd, Map<String, String> env) {
        if (jobId == null) {
            String slurm = env.get("SLURM_JOB_ID");
            if (slurm == null || slurm.isEmpty()) {
                throw MusterException.usage(
                        cmd + ": no job id; pass --job-id ID or run inside a Slurm job " + "(SLURM_JOB_ID)");
            }
            jobId = slurm;
        }
    }

    /** {@code --cache-dir}, else {@code MUSTER_CACHE_DIR}, else the seed's {@code CACHE_DIR}, else ~/.cache/muster. */
    Store store(Context ctx) {
        String dir = CacheDir.choose(cacheDir, ctx.env());
        return new Store(
                new CacheDir(dir, ctx.caller().get()),
                ctx.clock(),
                RecordKey.choose(keyFile, ctx.env(), ctx.caller().get()));
    }
}
