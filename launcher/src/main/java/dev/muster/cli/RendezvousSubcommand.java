package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import dev.muster.json.Json;
import dev.muster.rendezvous.ClientEnv;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;
import java.util.List;

/**
 * The shape of the {@code rendezvous} subcommands: read the options and names, check them, act. hpc-compose's own
 * commands ({@link #compat}) keep its exit codes: usage errors stay 2, every other failure becomes 1.
 */
abstract class RendezvousSubcommand implements Command {
    /** hpc-compose's CLI reports every failure other than usage as 1. */
    static final int COMPAT_FAILURE = 1;

    /** How many NAMEs a subcommand takes. */
    enum Arity {
        NONE,
        ONE,
        SOME
    }

    private String word;
    private boolean compat;
    private Arity arity;

    /**
     * Names this subcommand, says whether it is one of hpc-compose's (its exit codes) and how many NAMEs it takes;
     * {@link RendezvousCommand} holds the table.
     */
    RendezvousSubcommand named(String word, boolean compat, Arity arity) {
        this.word = word;
        this.compat = compat;
        this.arity = arity;
        return this;
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

    /** Checks the options once all are read (the names' count is checked before). */
    void check(RendezvousArgs o, Context ctx) {}

    /** Acts on the store the options name; a client of several names ({@link Arity#SOME}) gets a checked one. */
    abstract int act(RendezvousArgs o, Store store, Context ctx);

    @Override
    public final int run(List<String> args, Context ctx) {
        RendezvousArgs o = new RendezvousArgs();
        CommonFlags common = RendezvousArgs.parse(this, args, o);
        if (common.help) {
            ctx.out().print(help());
            return ExitCodes.OK;
        }
        common.applyLogLevel();
        switch (arity) {
            case NONE -> o.noName(name());
            case ONE -> o.oneName(name());
            default -> o.someNames(name());
        }
        check(o, ctx);
        if (!compat) {
            return act(o, arity == Arity.SOME ? clientStore(o, ctx) : o.store(ctx), ctx);
        }
        try {
            return act(o, o.store(ctx), ctx);
        } catch (MusterException e) {
            throw new MusterException(COMPAT_FAILURE, e.getMessage(), e.getCause());
        }
    }

    /**
     * The store for a client of several names: each name valid, no two exported under the same variable.
     */
    private static Store clientStore(RendezvousArgs o, Context ctx) {
        for (String n : o.names) {
            dev.muster.rendezvous.Names.validate(n);
        }
        ClientEnv.refuseTokenCollisions(o.names);
        return o.store(ctx);
    }

    /** Records as {@code list} prints them: a JSON array, or {@code <name> <url> job=<id>} lines. */
    static void printRecords(Context ctx, boolean json, List<Record> records) {
        if (json) {
            ctx.out().print(Json.pretty(records.stream().map(Record::toMap).toList()) + "\n");
            return;
        }
        StringBuilder b = new StringBuilder();
        for (Record r : records) {
            b.append(r.name())
                    .append(' ')
                    .append(SafeText.field(r.url()))
                    .append(" job=")
                    .append(SafeText.field(r.jobId()))
                    .append('\n');
        }
        ctx.out().print(b);
    }
}
