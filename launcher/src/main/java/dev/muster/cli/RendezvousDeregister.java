package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.json.Json;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** {@code muster rendezvous deregister NAME}: removes NAME's latest record while it is still this job's. */
final class RendezvousDeregister extends RendezvousSubcommand {
    @Override
    boolean option(String f, Args a, RendezvousArgs o) {
        if (f.equals("--job-id")) {
            o.jobId = a.value(f);
            return true;
        }
        return false;
    }

    @Override
    void check(RendezvousArgs o, Context ctx) {
        o.requireJobId(name(), ctx.env());
    }

    @Override
    int act(RendezvousArgs o, Store store, Context ctx) {
        String name = o.names.get(0);
        Store.Deregistration d = store.deregister(name, o.jobId);
        if (o.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("schema_version", Record.SCHEMA_VERSION);
            m.put("cache_dir", store.cache().given());
            m.put("name", name);
            m.put("job_id", o.jobId);
            m.put("result", d.name().toLowerCase(Locale.ROOT));
            ctx.out().print(Json.pretty(m) + "\n");
            return ExitCodes.OK;
        }
        switch (d) {
            case REMOVED -> ctx.out().print("deregistered rendezvous: " + name + "\n");
            case NOT_OURS ->
                Log.info("left rendezvous '" + name + "' in place: its latest record belongs to " + "another job than "
                        + o.jobId);
            default ->
                Log.info("no rendezvous record named '" + name + "' under "
                        + store.cache().rendezvousDir() + "; nothing to remove");
        }
        return ExitCodes.OK;
    }
}
