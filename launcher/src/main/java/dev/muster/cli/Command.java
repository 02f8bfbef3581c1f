package dev.muster.cli;

import java.util.List;

/**
 * One {@code muster} command. Its help text lives with it; it writes data to the context's stdout and returns its
 * exit status (failures are thrown as {@code MusterException}, which {@link Main} turns into one line and the
 * status). Only {@link Main} calls {@code System.exit}, so every command runs in-process in tests.
 */
interface Command {
    /** The word after {@code muster}, as error messages name the command. */
    String name();

    /** What {@code --help} prints. */
    String help();

    /** Runs the command with the arguments after its name. */
    int run(List<String> args, Context ctx);

    /**
     * Reads the options of {@code args} (the common ones and {@code own}'s) for this command: null when
     * {@code --help} was asked, after printing {@link #help} to the context's stdout.
     */
    default CommonFlags options(Args args, FlagReader own, Context ctx) {
        CommonFlags c = CommonFlags.read(args, own);
        if (c.help) {
            ctx.out().print(help());
            return null;
        }
        return c;
    }

    /**
     * For a command that takes options and no operands: reads them all, refuses anything left over, and sets the
     * log level; false when {@code --help} was asked (and printed).
     */
    default boolean optionsOnly(List<String> argv, FlagReader own, Context ctx) {
        Args a = new Args(name(), argv);
        CommonFlags c = options(a, own, ctx);
        if (c == null) {
            return false;
        }
        a.end();
        c.applyLogLevel();
        return true;
    }
}
