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
}
