package dev.muster.cli;

import dev.muster.barrier.StepSync;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.json.Json;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;
import java.util.ArrayList;
import java.util.List;

/** {@code muster explain [--format text|json]}: who this task is, and where each value came from. */
final class ExplainCommand implements Command {
    private String format = "text";
    private String syncDir;
    private String name;

    @Override
    public String name() {
        return "explain";
    }

    @Override
    public String help() {
        return """
            usage: muster explain [--format text|json] [--sync-dir D] [--name NAME]

            Prints this task's launcher, rank, size, local rank, node, job, step, restart, cluster, barrier key and
            sync directory, with the variable each value came from.
            """;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        FlagReader own = new OptionTable()
                .on("--format", (f, a) -> {
                    format = a.value(f);
                    if (!format.equals("text") && !format.equals("json")) {
                        throw MusterException.usage("explain: --format '" + format + "' is not text or json");
                    }
                })
                .on("--sync-dir", (f, a) -> syncDir = a.value(f))
                .on("--name", (f, a) -> name = a.value(f));
        if (!optionsOnly(argv, own, ctx)) {
            return ExitCodes.OK;
        }
        TaskIdentity id = IdentityResolver.resolve(ctx.env());
        SyncRoot root = SyncRoot.resolve(syncDir, ctx.env());
        String key = StepSync.key(id, name);
        List<String[]> rows = new ArrayList<>();
        rows.add(row("launcher", id.launcher(), ""));
        rows.add(row("rank", Integer.toString(id.rank()), id.source("rank")));
        rows.add(row("size", Integer.toString(id.size()), id.source("size")));
        rows.add(row("local_rank", Integer.toString(id.localRank()), id.source("local rank")));
        rows.add(row("local_size", Integer.toString(id.localSize()), id.source("local size")));
        rows.add(row("node", id.node(), id.source("node")));
        rows.add(row("job", id.jobId() == null ? "" : id.jobId(), id.source("job")));
        rows.add(row("step", id.stepId() == null ? "" : id.stepId(), id.stepId() == null ? "" : "SLURM_STEP_ID"));
        rows.add(row("restart", Integer.toString(id.restart()), id.source("restart")));
        rows.add(row("cluster", id.cluster(), id.source("cluster")));
        rows.add(row("barrier_key", key, id.source("launch").isEmpty() ? "" : "+" + id.source("launch")));
        rows.add(row("sync_dir", root.path().toString(), root.source()));
        rows.add(row("barrier", id.inStep() ? "yes" : "no (not a step)", ""));
        StringBuilder b = new StringBuilder();
        if (format.equals("json")) {
            json(b, rows);
        } else {
            for (String[] r : rows) {
                b.append(String.format("%-12s %-24s %s", r[0], r[1], r[2]).stripTrailing())
                        .append('\n');
            }
        }
        ctx.out().print(b);
        return ExitCodes.OK;
    }

    /** The rows as one JSON object, each value under its name and its source under "sources". */
    private static void json(StringBuilder b, List<String[]> rows) {
        b.append("{\n");
        for (int i = 0; i < rows.size(); i++) {
            String[] r = rows.get(i);
            boolean number =
                    r[0].equals("rank") || r[0].equals("size") || r[0].startsWith("local_") || r[0].equals("restart");
            b.append("  ")
                    .append(Json.quote(r[0]))
                    .append(": ")
                    .append(number ? r[1] : Json.quote(r[1]))
                    .append(",\n");
        }
        b.append("  \"sources\": {\n");
        for (int i = 0; i < rows.size(); i++) {
            String[] r = rows.get(i);
            b.append("    ")
                    .append(Json.quote(r[0]))
                    .append(": ")
                    .append(Json.quote(r[2]))
                    .append(i + 1 < rows.size() ? ",\n" : "\n");
        }
        b.append("  }\n}\n");
    }

    private static String[] row(String k, String v, String source) {
        return new String[] {k, v, source};
    }
}
