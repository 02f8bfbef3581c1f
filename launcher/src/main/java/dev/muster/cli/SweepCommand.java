package dev.muster.cli;

import dev.muster.barrier.Sweep;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code muster sweep [--sync-dir D] [--max-age 24h] [--dry-run]}: removes the step directories killed steps left.
 * A step is still live while Slurm lists its job (asked with squeue) or, for {@code muster local}, while its
 * launching process runs; anything older than the maximum age goes regardless.
 */
final class SweepCommand implements Command, FlagReader {
    private String syncDir;
    private boolean dryRun;
    private Duration maxAge = Duration.ofDays(1);

    @Override
    public String name() {
        return "sweep";
    }

    @Override
    public String help() {
        return """
            usage: muster sweep [--sync-dir D] [--max-age 86400] [--dry-run]

            Removes step directories of jobs Slurm no longer runs (or of muster local runs whose launcher is gone),
            those older than --max-age (default 1 day), and the remains of interrupted clean-ups. Never follows a
            symbolic link.
            """;
    }

    @Override
    public boolean read(String flag, Args a) {
        switch (flag) {
            case "--sync-dir" -> syncDir = a.value(flag);
            case "--dry-run" -> {
                a.noValue(flag);
                dryRun = true;
            }
            case "--max-age" -> maxAge = a.duration(flag, "s");
            default -> {
                return false;
            }
        }
        return true;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        Args a = new Args(name(), argv);
        CommonFlags common = CommonFlags.read(a, this);
        if (common.help) {
            ctx.out().print(help());
            return ExitCodes.OK;
        }
        a.end();
        Path root = SyncRoot.resolve(syncDir, ctx.env()).path();
        Sweep.Result r;
        try {
            r = Sweep.sweep(root, SweepCommand::alive, maxAge, Instant.now(), dryRun);
        } catch (IOException e) {
            throw MusterException.unusableDir("sweep: cannot clean " + root + ": " + e);
        }
        for (Path p : r.removed()) {
            ctx.out().println((dryRun ? "would remove " : "removed ") + p);
        }
        Log.info((dryRun ? "would remove " : "removed ") + r.removed().size() + " step director"
                + (r.removed().size() == 1 ? "y" : "ies") + ", kept " + r.kept().size() + " under " + root);
        return ExitCodes.OK;
    }

    /**
     * Whether the step named {@code key} may still run. Keys are {@code <cluster>.<job>.<step>...} or
     * {@code local.<pid>-<id>}. When Slurm cannot be asked, a step counts as live (the age limit still applies).
     */
    static boolean alive(String key) {
        String[] parts = key.split("\\.");
        // muster local keys are local.<pid>-<hex>; a Slurm cluster may be called "local" too, but its job ids
        // never have that shape
        if (parts.length >= 2 && parts[0].equals("local") && parts[1].matches("[0-9]+-[0-9a-f]+")) {
            String pid = parts[1].split("-")[0];
            try {
                return ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
            } catch (NumberFormatException e) {
                return false;
            }
        }
        if (parts.length < 2 || !parts[1].matches("[0-9]+(_[0-9]+)?")) {
            return true;
        }
        try {
            Process p = new ProcessBuilder("squeue", "-h", "-j", parts[1], "-o", "%T")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return true;
            }
            // squeue exits non-zero for a job id it no longer knows
            return p.exitValue() == 0 && !out.isEmpty() && !out.startsWith("COMPLET");
        } catch (IOException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }
}
