package dev.muster.cli;

import dev.muster.barrier.BarrierSettings;
import dev.muster.barrier.Transport;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Barrier settings shared by {@code run}, {@code barrier} and {@code local}: flag > environment > default. */
final class Options implements FlagReader {
    /** The barrier options' help, part of run's, barrier's and local's. */
    static final String HELP = """
              --timeout S       deadline from this task's arrival (default 600s; env MUSTER_TIMEOUT)
              --poll-max MS     ceiling of the poll interval (default 100ms; env MUSTER_POLL_MAX)
              --sync-dir D      shared directory for barrier files (env MUSTER_SYNC_DIR; else
                                $HOOK_BASE_DIR/<user>/.oci-hooks/slurm-global-sync; else ~/.muster/sync)
              --name NAME       tell several barriers of one step apart
              --no-tcp          wait by the file protocol only (env MUSTER_TCP=0); by default rank 0 releases
                                the others over TCP and the file protocol is the fallback
              --bind-address A  where rank 0 listens for the TCP release (env MUSTER_BIND_ADDRESS; default: the
                                address of Slurm's SLURMD_NODENAME, else of the host name)
              --trace FILE      append this task's arrival and release times to FILE (env MUSTER_TRACE)
              --quiet, -q       errors only (env MUSTER_QUIET=1)
              --verbose, -v     more detail, stack traces on errors (env MUSTER_VERBOSE=1)
            Durations: 30, 30s, 500ms, 2m (a bare number is seconds for --timeout, milliseconds for --poll-max).
            """;

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(600);
    static final Duration DEFAULT_POLL_MAX = Duration.ofMillis(100);

    Duration timeout;
    Duration pollMax;
    String syncDir;
    String name;
    Path trace;
    /** TCP release path with file fallback (default), file protocol only, or the benchmark baseline. */
    Transport transport;

    Options(Map<String, String> env) {
        transport = Transport.fromEnv(env);
        timeout = fromEnv(env, "MUSTER_TIMEOUT", "s", DEFAULT_TIMEOUT);
        pollMax = fromEnv(env, "MUSTER_POLL_MAX", "ms", DEFAULT_POLL_MAX);
        String t = env.get("MUSTER_TRACE");
        trace = t == null || t.isEmpty() ? null : Path.of(t);
    }

    private static Duration fromEnv(Map<String, String> env, String var, String unit, Duration fallback) {
        String v = env.get(var);
        if (v == null || v.isEmpty()) {
            return fallback;
        }
        return Args.parseDuration(var, v, unit);
    }

    /** Reads one barrier option; false when {@code flag} is not one. */
    @Override
    public boolean read(String flag, Args a) {
        switch (flag) {
            case "--timeout":
                timeout = a.duration(flag, "s");
                return true;
            case "--poll-max":
                pollMax = a.duration(flag, "ms");
                return true;
            case "--sync-dir":
                syncDir = a.value(flag);
                if (syncDir.isBlank()) {
                    throw MusterException.usage("--sync-dir is empty; give a directory all nodes of the step see");
                }
                return true;
            case "--name":
                name = a.value(flag);
                if (!name.matches("[A-Za-z0-9_.-]{1,64}") || name.equals(".") || name.equals("..")) {
                    throw MusterException.usage(
                            "--name '" + name + "' must be 1-64 of A-Z a-z 0-9 . _ - (not . or ..)");
                }
                return true;
            case "--no-tcp":
                a.noValue(flag);
                transport = new Transport(Transport.Mode.FILE, transport.bindAddress());
                return true;
            case "--bind-address":
                String bind = a.value(flag).trim();
                if (bind.isEmpty()) {
                    throw MusterException.usage("--bind-address is empty; give an address of rank 0's node that the "
                            + "other nodes reach");
                }
                transport = new Transport(transport.mode(), bind);
                return true;
            case "--baseline-sarus":
                // hidden: the Sarus hook's waiting, for scripts/bench-barrier only
                a.noValue(flag);
                transport = new Transport(Transport.Mode.SARUS_BASELINE, transport.bindAddress());
                return true;
            case "--trace":
                trace = Path.of(a.value(flag));
                return true;
            default:
                return false;
        }
    }

    BarrierSettings settings() {
        return BarrierSettings.of(timeout, pollMax);
    }

    /** Sets the log level before parsing, so that errors found while parsing respect it. */
    static void presetLogLevel(List<String> args, Map<String, String> env) {
        Log.Level level = Log.Level.NORMAL;
        if ("1".equals(env.get("MUSTER_QUIET"))) {
            level = Log.Level.QUIET;
        }
        if ("1".equals(env.get("MUSTER_VERBOSE"))) {
            level = Log.Level.VERBOSE;
        }
        for (String a : args) {
            if (a.equals("--")) {
                break;
            }
            if (a.equals("--verbose") || a.equals("-v")) {
                level = Log.Level.VERBOSE;
            } else if (a.equals("--quiet") || a.equals("-q")) {
                level = Log.Level.QUIET;
            }
        }
        Log.level(level);
    }
}
