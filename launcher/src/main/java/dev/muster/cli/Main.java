package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.NativeLibrary;
import dev.muster.exec.Descriptors;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * {@code muster <command> ...}. The only place that calls {@code System.exit}. With no known command the
 * arguments mean {@code run}: {@code java -jar muster.jar ./app args} is {@code muster run -- ./app args}.
 */
public final class Main {
    private static volatile List<String> originalArgs;

    private Main() {}

    /** The arguments this JVM was started with, for {@code local} to start its tasks the same way. */
    static List<String> originalArgs() {
        return originalArgs;
    }

    public static void main(String[] args) {
        // Before anything opens a file: the descriptors this task inherited (PMI's, a test's) must stay open
        // across exec, the JVM's own must not (DESIGN §6).
        Descriptors.noteInherited();
        // libmuster.so (exec, the non-blocking open, statx) may be loaded, on first use: not by --version and the like
        NativeLibrary.allow();
        originalArgs = List.of(args);
        int status;
        try {
            status = dispatch(Arrays.asList(args), Context.of(System.getenv()));
        } catch (MusterException e) {
            status = fail(e);
        } catch (RuntimeException | Error e) {
            status = fail(MusterException.internal(
                    "internal error: " + e + "; please report it with the output of --verbose", e));
        }
        System.out.flush();
        System.exit(status);
    }

    private static int fail(MusterException e) {
        Log.error(e.getMessage());
        if (Log.verbose() && e.getCause() != null) {
            e.getCause().printStackTrace();
        } else if (e.status() == ExitCodes.INTERNAL) {
            Log.info("run with --verbose for details");
        }
        return e.status();
    }

    static final String HELP = """
            muster: make the tasks of an HPC job step start together, find each other, and exec the real program.

            usage: muster <command> [options] [-- cmd args...]

              run [options] -- cmd args   barrier, export the environment, exec cmd (the default command)
              barrier [options]           the step barrier alone, for shell scripts
              hook [options]              the step barrier as an OCI hook (state on stdin; docs/oci-hook.md)
              local -n N [opts] -- cmd    start N local tasks, as srun -n N muster run -- cmd would
              explain [--format json]     who this task is, and where each value came from
              sweep [--sync-dir D]        remove step directories that killed steps left behind
              doctor [--sync-dir D]       check the sync and cache directories; under srun -N 2, measure
                                          how fast a file shows on another node
              rendezvous <sub> ...        register / resolve / list / prune / deregister / env / wait endpoints
              roster [--format F]         print the step roster (json, hosts, hostfile, env); docs/roster.md
              --version                   muster's version and the Java running it

            Every command takes --help. Status lines go to stderr as muster[<rank>] ...; data goes to stdout.
            """;

    static int dispatch(List<String> args, Context ctx) {
        Options.presetLogLevel(args, ctx.env());
        if (args.isEmpty()) {
            ctx.err().print(HELP);
            return ExitCodes.USAGE;
        }
        String first = args.get(0);
        List<String> rest = args.subList(1, args.size());
        switch (first) {
            case "--version", "version" -> {
                ctx.out()
                        .println("muster " + version() + " (Java " + System.getProperty("java.runtime.version") + ", "
                                + System.getProperty("java.home") + ")");
                return ExitCodes.OK;
            }
            case "--help", "-h", "help" -> {
                ctx.out().print(HELP);
                return ExitCodes.OK;
            }
            default -> {}
        }
        Command c = command(first);
        if (c != null) {
            return c.run(rest, ctx);
        }
        if (first.startsWith("-") && !first.equals("--")) {
            // run's options without the word run: java -jar muster.jar --timeout 60 -- ./app
            return new RunCommand().run(args, ctx);
        }
        return new RunCommand().run(first.equals("--") ? args : prepend("--", args), ctx);
    }

    /**
     * The command named {@code word}, or null. A switch rather than a table, so that a start-up loads only the
     * class of the command it runs.
     */
    static Command command(String word) {
        return switch (word) {
            case "run" -> new RunCommand();
            case "barrier" -> new BarrierCommand();
            case "hook" -> new HookCommand(System.in);
            case "explain" -> new ExplainCommand();
            case "local" -> new LocalCommand();
            case "sweep" -> new SweepCommand();
            case "doctor" -> new DoctorCommand();
            case "rendezvous" -> new RendezvousCommand();
            case "roster" -> new RosterCommand();
            default -> null;
        };
    }

    private static List<String> prepend(String head, List<String> tail) {
        String[] all = new String[tail.size() + 1];
        all[0] = head;
        for (int i = 0; i < tail.size(); i++) {
            all[i + 1] = tail.get(i);
        }
        return Arrays.asList(all);
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("/dev/muster/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }
}
