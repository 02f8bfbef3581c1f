package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;

/** {@code muster rendezvous resolve NAME}: shows NAME's live record. */
final class RendezvousResolve extends RendezvousSubcommand {
    @Override
    int act(RendezvousArgs o, Store store, Context ctx) {
        String name = o.names.get(0);
        Record r = store.resolve(name).orElseThrow(() -> new MusterException(COMPAT_FAILURE,
                "no live rendezvous record named '" + name + "' found under " + store.cache().rendezvousDir()));
        if (o.json) {
            ctx.out().print(r.toJson() + "\n");
        } else {
            ctx.out().print(describe(r, store.nowSeconds()));
        }
        return ExitCodes.OK;
    }

    private static String describe(Record r, long now) {
        return "name: " + r.name() + "\n"
                + "url: " + r.url() + "\n"
                + "host: " + r.host() + "\n"
                + "port: " + r.port() + "\n"
                + "job id: " + r.jobId() + "\n"
                + (r.hasService() ? "service: " + r.service() + "\n" : "")
                + "expires in: " + r.secondsLeft(now) + "s\n";
    }
}
