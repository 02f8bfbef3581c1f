package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.json.Json;
import dev.muster.rendezvous.ClientEnv;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code muster rendezvous env NAME...}: export lines of the HPC_COMPOSE_RDZV_* variables for live names. */
final class RendezvousEnv extends RendezvousSubcommand {
    @Override
    int act(RendezvousArgs o, Store store, Context ctx) {
        List<Record> resolved = new ArrayList<>();
        for (String n : o.names) {
            Optional<Record> r = store.resolve(n);
            if (r.isEmpty()) {
                throw new MusterException(
                        ExitCodes.NOT_RESOLVED,
                        "no live rendezvous record named '" + n
                                + "' found under " + store.cache().rendezvousDir()
                                + "; start its provider or check --cache-dir");
            }
            resolved.add(r.get());
        }
        Map<String, String> vars = ClientEnv.of(resolved);
        if (o.json) {
            ctx.out().print(Json.pretty(vars) + "\n");
            return ExitCodes.OK;
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : vars.entrySet()) {
            b.append("export ")
                    .append(e.getKey())
                    .append('=')
                    .append(Shell.quoteAlways(e.getValue()))
                    .append('\n');
        }
        ctx.out().print(b);
        return ExitCodes.OK;
    }
}
