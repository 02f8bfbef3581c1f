package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.rendezvous.ClientWait;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;
import dev.muster.task.JobStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * {@code muster rendezvous wait NAME... [--timeout S]}: blocks until every name is live, by {@link ClientWait} (the
 * poll that {@code run --rendezvous} uses), with hpc-compose's rule that a record stands on its TTL alone.
 */
final class RendezvousWait extends RendezvousSubcommand {
    @Override
    boolean option(String f, Args a, RendezvousArgs o) {
        return switch (f) {
            case "--timeout" -> {
                o.timeout = a.duration(f, "s");
                yield true;
            }
            default -> false;
        };
    }

    @Override
    int act(RendezvousArgs o, Store store, Context ctx) {
        List<ClientWait.Request> requests = new ArrayList<>();
        for (String n : o.names.stream().distinct().toList()) {
            requests.add(new ClientWait.Request(n, true, o.timeout));
        }
        ClientWait.Result r =
                new ClientWait(store, ctx.clock(), JobStatus.TTL_ONLY, null, new Random()).await(requests);
        if (!r.complete()) {
            List<String> missing =
                    r.missing().keySet().stream().map(ClientWait.Request::name).toList();
            throw new MusterException(
                    ExitCodes.NOT_RESOLVED,
                    "rendezvous "
                            + (missing.size() == 1
                                    ? "name '" + missing.get(0) + "'"
                                    : "names '" + String.join("', '", missing) + "'")
                            + " not live under " + store.cache().rendezvousDir() + " after " + seconds(o.timeout)
                            + "; start the provider, check --cache-dir, or raise --timeout");
        }
        List<Record> records = r.resolved();
        printRecords(ctx, o.json, records);
        return ExitCodes.OK;
    }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
