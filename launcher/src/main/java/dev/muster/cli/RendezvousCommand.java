package dev.muster.cli;

import dev.muster.cli.RendezvousSubcommand.Arity;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.util.List;

/**
 * {@code muster rendezvous register|resolve|list|prune|deregister|env|wait}, one class each. The first four are
 * hpc-compose's {@code rendezvous} commands, output and exit codes included (0 ok, 1 anything that went wrong,
 * 2 usage), so scripts written for one work with the other. The rest use muster's own exit-code table (DESIGN §7).
 */
final class RendezvousCommand implements Command {
    static final String HELP = """
            Usage: muster rendezvous <command> [options]

            Records that let one job find the endpoint another job provides, under a shared cache directory
            (compatible with hpc-compose's rendezvous records).

            Commands:
              register NAME --host H --port P [--job-id ID] [--service S] [--protocol P] [--path /P]
                            [--ttl-seconds N] [--metadata K=V]...
                                  record this job as the provider of NAME
              resolve NAME        show the live record of NAME
              list                show every live record
              prune               remove expired records
              deregister NAME [--job-id ID]
                                  remove NAME's latest record if it is still this job's
              env NAME...         print export lines of the HPC_COMPOSE_RDZV_* variables for the names
              wait NAME... [--timeout S]
                                  block until every name is live

            Options:
              --cache-dir DIR     the shared cache (default: $MUSTER_CACHE_DIR, else $CACHE_DIR,
                                  else ~/.cache/muster)
              --format text|json  output format (default text)
              --key-file FILE     sign records (register) and accept only records signed with this key
                                  (resolve, list, env, wait); default $MUSTER_RDZV_KEY_FILE
              --job-id ID         default $SLURM_JOB_ID
              --protocol P        default http
              --ttl-seconds N     lifetime of the record, default 3600
              --timeout S         for wait: how long, e.g. 30s, 500ms, 2m (default 30s)
              --help              this text

            Exit codes: register, resolve, list, prune: 0 ok, 1 not found, invalid or corrupt record, unusable
            cache directory, 2 usage. deregister, env, wait: 0 ok, 2 usage, 65 corrupt record, 69 not resolved
            (before the deadline), 77 unusable cache directory.
            """;

    @Override
    public String name() {
        return "rendezvous";
    }

    @Override
    public String help() {
        return HELP;
    }

    @Override
    public int run(List<String> args, Context ctx) {
        if (args.isEmpty()) {
            throw MusterException.usage("rendezvous: missing command; use register, resolve, list, prune, "
                    + "deregister, env or wait (see muster rendezvous --help)");
        }
        String sub = args.get(0);
        if (sub.equals("--help") || sub.equals("-h") || sub.equals("help")) {
            ctx.out().print(HELP);
            return ExitCodes.OK;
        }
        // hpc-compose's four keep its exit codes (true); the others use muster's
        Command c = switch (sub) {
            case "register" -> new RendezvousRegister().named(sub, true, Arity.ONE);
            case "resolve" -> new RendezvousResolve().named(sub, true, Arity.ONE);
            case "list" -> new RendezvousList().named(sub, true, Arity.NONE);
            case "prune" -> new RendezvousPrune().named(sub, true, Arity.NONE);
            case "deregister" -> new RendezvousDeregister().named(sub, false, Arity.ONE);
            case "env" -> new RendezvousEnv().named(sub, false, Arity.SOME);
            case "wait" -> new RendezvousWait().named(sub, false, Arity.SOME);
            // internal: started by run --register before its exec
            case "registrar" -> new RegistrarCommand();
            default ->
                throw MusterException.usage("rendezvous: unknown command '" + sub + "'; use register, "
                        + "resolve, list, prune, deregister, env or wait");
        };
        return c.run(args.subList(1, args.size()), ctx);
    }
}
