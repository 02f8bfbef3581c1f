package dev.muster.cli;

import dev.muster.barrier.FileBarrier;
import dev.muster.core.Log;
import dev.muster.core.MusterException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Barrier settings shared by {@code run}, {@code barrier} and {@code local}: flag > environment > default. */
final class Options {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(600);
    static final Duration DEFAULT_POLL_MAX = Duration.ofMillis(100);

    Duration timeout;
    Duration pollMax;
    String syncDir;
    String name;
    Path trace;
    boolean quiet;
    boolean verbose;

    Options(Map<String, String> env) {
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
    boolean read(String flag, Args a) {
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
                    throw MusterException.usage("--name '" + name + "' must be 1-64 of A-Z a-z 0-9 . _ - (not . or ..)");
                }
                return true;
            case "--trace":
                trace = Path.of(a.value(flag));
                return true;
            case "--quiet":
            case "-q":
                a.noValue(flag);
                quiet = true;
                return true;
            case "--verbose":
            case "-v":
                a.noValue(flag);
                verbose = true;
                return true;
            default:
                return false;
        }
    }

    FileBarrier.Settings settings() {
        return FileBarrier.Settings.of(timeout, pollMax);
    }

    void applyLogLevel() {
        Log.level(verbose ? Log.Level.VERBOSE : quiet ? Log.Level.QUIET : Log.level());
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
