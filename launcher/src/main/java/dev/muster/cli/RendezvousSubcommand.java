package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.json.Json;
import dev.muster.rendezvous.Record;

import java.util.List;

/**
 * The shape of the {@code rendezvous} subcommands: read the options and names, check them, act. hpc-compose's own
 * commands ({@link #compat}) keep its exit codes: usage errors stay 2, every other failure becomes 1.
 */
abstract class RendezvousSubcommand implements Command {
    /** hpc-compose's CLI reports every failure other than usage as 1. */
    static final int COMPAT_FAILURE = 1;

    private final String word;
    private final boolean compat;

    RendezvousSubcommand(String word, boolean compat) {
        this.word = word;
        this.compat = compat;
    }

    @Override
    public final String name() {
        return "rendezvous " + word;
    }

    @Override
    public final String help() {
        return RendezvousCommand.HELP;
    }

    /** Reads one option only this subcommand takes; false when it is not one. */
    boolean option(String flag, Args a, RendezvousArgs o) {
        return false;
    }

    /** Checks the names and options once all are read. */
    abstract void check(RendezvousArgs o, Context ctx);

    abstract int act(RendezvousArgs o, Context ctx);

    @Override
    public final int run(List<String> args, Context ctx) {
        RendezvousArgs o = new RendezvousArgs();
        CommonFlags common = RendezvousArgs.parse(this, args, o);
        if (common.help) {
            ctx.out().print(help());
            return ExitCodes.OK;
        }
        common.applyLogLevel();
        check(o, ctx);
        if (!compat) {
            return act(o, ctx);
        }
        try {
            return act(o, ctx);
        } catch (MusterException e) {
            throw new MusterException(COMPAT_FAILURE, e.getMessage(), e.getCause());
        }
    }

    /** Records as {@code list} prints them: a JSON array, or {@code <name> <url> job=<id>} lines. */
    static void printRecords(Context ctx, boolean json, List<Record> records) {
        if (json) {
            ctx.out().print(Json.pretty(records.stream().map(Record::toMap).toList()) + "\n");
            return;
        }
        StringBuilder b = new StringBuilder();
        for (Record r : records) {
            b.append(r.name()).append(' ').append(r.url()).append(" job=").append(r.jobId()).append('\n');
        }
        ctx.out().print(b);
    }
}
