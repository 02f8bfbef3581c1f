package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.exec.Descriptors;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code muster <command> ...}. The only place that calls {@code System.exit}. With no known command the
 * arguments mean {@code run}: {@code java -jar muster.jar ./app args} is {@code muster run -- ./app args}.
 */
public final class Main {
    private static volatile List<String> originalArgs;

    private Main() {
    }

    /** The arguments this JVM was started with, for {@code local} to start its tasks the same way. */
    static List<String> originalArgs() {
        return originalArgs;
    }

    public static void main(String[] args) {
        // Before anything opens a file: the descriptors this task inherited (PMI's, a test's) must stay open
        // across exec, the JVM's own must not (DESIGN §6).
        Descriptors.noteInherited();
        originalArgs = List.of(args);
        int status;
        try {
            status = dispatch(Arrays.asList(args), System.getenv());
        } catch (MusterException e) {
            status = fail(e);
        } catch (RuntimeException | Error e) {
            status = fail(MusterException.internal("internal error: " + e
                    + "; please report it with the output of --verbose", e));
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

    static int dispatch(List<String> args, Map<String, String> env) {
        Options.presetLogLevel(args, env);
        if (args.isEmpty()) {
            System.err.print(Help.MAIN);
            return ExitCodes.USAGE;
        }
        String first = args.get(0);
        List<String> rest = args.subList(1, args.size());
        switch (first) {
            case "run":
                return new RunCommand(env).call(rest);
            case "barrier":
                return new BarrierCommand(env).call(rest);
            case "hook":
                return new HookCommand(env, System.in).call(rest);
            case "explain":
                return new ExplainCommand(env).call(rest);
            case "local":
                return new LocalCommand(env).call(rest);
            case "sweep":
                return new SweepCommand(env).call(rest);
            case "doctor":
                return new DoctorCommand(env).call(rest);
            case "rendezvous":
                return new RendezvousCommand(env).call(rest);
            case "--version":
            case "version":
                System.out.println("muster " + version() + " (Java " + System.getProperty("java.runtime.version")
                        + ", " + System.getProperty("java.home") + ")");
                return ExitCodes.OK;
            case "--help":
            case "-h":
            case "help":
                System.out.print(Help.MAIN);
                return ExitCodes.OK;
            default:
                if (first.startsWith("-") && !first.equals("--")) {
                    // run's options without the word run: java -jar muster.jar --timeout 60 -- ./app
                    return new RunCommand(env).call(args);
                }
                return new RunCommand(env).call(first.equals("--") ? args : prepend("--", args));
        }
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
