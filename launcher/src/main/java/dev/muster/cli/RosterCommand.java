package dev.muster.cli;

import dev.muster.barrier.Roster;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.roster.RosterFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code muster roster [--format json|hosts|hostfile|env]}: prints the step roster {@code MUSTER_ROSTER} names
 * (docs/roster.md); in a batch script, with no roster, {@code hosts} and {@code hostfile} describe the allocation.
 */
final class RosterCommand implements Command {
    private String format = "json";

    @Override
    public String name() {
        return "roster";
    }

    @Override
    public String help() {
        return """
            usage: muster roster [--format json|hosts|hostfile|env]

            Prints the step roster of a program started by muster run --roster (or --publish, --port, --address):
              json      the roster file MUSTER_ROSTER names (schema: docs/roster.md)
              hosts     every rank's node, one line per rank, in rank order
              hostfile  Open MPI's host file: "node slots=N", one line per node
              env       export lines of MUSTER_HOSTS and MUSTER_ROSTER_ADDR0
            In a batch script (no roster), hosts and hostfile describe the allocation from SLURM_JOB_NODELIST and
            SLURM_TASKS_PER_NODE, e.g. mpirun --hostfile <(muster roster --format hostfile).
            """;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        FlagReader own = new OptionTable().on("--format", (f, a) -> format = a.value(f));
        if (!optionsOnly(argv, own, ctx)) {
            return ExitCodes.OK;
        }
        if (!List.of("json", "hosts", "hostfile", "env").contains(format)) {
            throw MusterException.usage(
                    "roster: --format " + Shell.quote(format) + " is not one of json, hosts, " + "hostfile, env");
        }
        String path = ctx.env().get("MUSTER_ROSTER");
        byte[] json = null;
        if (path != null && !path.isEmpty()) {
            try {
                json = Files.readAllBytes(Path.of(path));
            } catch (IOException e) {
                throw MusterException.corrupt("roster: cannot read MUSTER_ROSTER=" + Shell.quote(path) + " (" + e
                        + "); it lives as long as the task that muster released");
            }
        } else if (format.equals("json") || format.equals("env")) {
            throw MusterException.usage("roster: --format " + format + " needs MUSTER_ROSTER (a program started by "
                    + "muster run --roster); in a batch script use --format hosts or hostfile");
        }
        switch (format) {
            case "json" -> ctx.out().write(json, 0, json.length);
            case "env" -> {
                StringBuilder b = new StringBuilder();
                for (Map.Entry<String, String> e : Roster.env(json).entrySet()) {
                    b.append("export ")
                            .append(e.getKey())
                            .append('=')
                            .append(Shell.quote(e.getValue()))
                            .append('\n');
                }
                ctx.out().print(b);
            }
            default -> {
                List<String> hosts = json != null ? RosterFormat.hosts(json) : RosterFormat.hostsFromSlurm(ctx.env());
                ctx.out()
                        .print(format.equals("hosts") ? String.join("\n", hosts) + "\n" : RosterFormat.hostfile(hosts));
            }
        }
        ctx.out().flush();
        return ExitCodes.OK;
    }
}
