package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.SafeText;
import dev.muster.json.Json;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code muster rendezvous prune}: removes expired records. */
final class RendezvousPrune extends RendezvousSubcommand {
    @Override
    int act(RendezvousArgs o, Store store, Context ctx) {
        List<Path> removed = store.prune();
        if (o.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("schema_version", Record.SCHEMA_VERSION);
            m.put("cache_dir", store.cache().given());
            m.put("removed", removed.stream().map(Path::toString).toList());
            ctx.out().print(Json.pretty(m) + "\n");
        } else {
            StringBuilder b = new StringBuilder("removed " + removed.size() + " rendezvous record(s)\n");
            for (Path p : removed) {
                b.append("  ").append(SafeText.field(p.toString())).append('\n'); // names from readdir
            }
            ctx.out().print(b);
        }
        return ExitCodes.OK;
    }
}
