package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;
import java.util.List;

/** {@code muster rendezvous list}: every live record. */
final class RendezvousList extends RendezvousSubcommand {
    @Override
    int act(RendezvousArgs o, Store store, Context ctx) {
        List<Record> records = store.list();
        if (!o.json && records.isEmpty()) {
            ctx.out()
                    .print("no live rendezvous records found under "
                            + store.cache().rendezvousDir() + "\n");
        } else {
            printRecords(ctx, o.json, records);
        }
        return ExitCodes.OK;
    }
}
