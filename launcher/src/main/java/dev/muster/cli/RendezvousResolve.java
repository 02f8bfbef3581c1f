package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;

/** {@code muster rendezvous resolve NAME}: shows NAME's live record. */
final class RendezvousResolve extends RendezvousSubcommand {
    @Override
    int act(RendezvousArgs o, Store store, Context ctx) {
        String name = o.names.get(0);
        Record r = store.resolve(name)
                .orElseThrow(() -> new MusterException(
                        COMPAT_FAILURE,
                        "no live rendezvous record named '" + name + "' found under "
                                + store.cache().rendezvousDir()));
        if (o.json) {
            ctx.out().print(r.toJson() + "\n");
        } else {
            ctx.out().print(describe(r, store.nowSeconds()));
        }
        return ExitCodes.OK;
    }

    private static String describe(Record r, long now) {
        // values as they are: the reader refuses control characters in them; SafeText only bounds and, should
        // one ever get through, escapes (docs/security.md)
        return "name: " + r.name() + "\n"
                + "url: " + SafeText.field(r.url()) + "\n"
                + "host: " + SafeText.field(r.host()) + "\n"
                + "port: " + r.port() + "\n"
                + "job id: " + SafeText.field(r.jobId()) + "\n"
                + (r.hasService() ? "service: " + SafeText.field(r.service()) + "\n" : "")
                + "expires in: " + r.secondsLeft(now) + "s\n";
    }
}
