package dev.muster.cli;

import dev.muster.barrier.Sweep;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.task.JobStatus;
import dev.muster.task.StepLiveness;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * {@code muster sweep [--sync-dir D] [--max-age 24h] [--dry-run]}: removes the step directories killed steps left.
 * Which steps may still run is {@link StepLiveness}'s to say; anything older than the maximum age goes regardless.
 */
final class SweepCommand implements Command {
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
            symbolic link. Also removes this node's roster files ($TMPDIR/muster-<uid>/roster) of tasks that are gone.
            """;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        FlagReader own = new OptionTable()
                .on("--sync-dir", (f, a) -> syncDir = a.value(f))
                .on("--max-age", (f, a) -> maxAge = a.duration(f, "s"))
                .on("--dry-run", (f, a) -> {
                    a.noValue(f);
                    dryRun = true;
                });
        if (!optionsOnly(argv, own, ctx)) {
            return ExitCodes.OK;
        }
        Path root = SyncRoot.resolve(syncDir, ctx.env()).path();
        Sweep.Result r;
        try {
            r = Sweep.sweep(root, new StepLiveness(JobStatus.slurm())::mayRun, maxAge, Instant.now(), dryRun);
        } catch (IOException e) {
            throw MusterException.unusableDir("sweep: cannot clean " + root + ": " + e);
        }
        for (Path p : r.removed()) {
            ctx.out().println((dryRun ? "would remove " : "removed ") + p);
        }
        // this node's roster files of tasks that are gone (killed: their remover loop died with them)
        for (Path p : dev.muster.roster.RosterFile.sweep(ctx.env(), dryRun)) {
            ctx.out().println((dryRun ? "would remove " : "removed ") + p);
        }
        Log.info((dryRun ? "would remove " : "removed ") + r.removed().size() + " step director"
                + (r.removed().size() == 1 ? "y" : "ies") + ", kept " + r.kept().size() + " under " + root);
        return ExitCodes.OK;
    }
}
