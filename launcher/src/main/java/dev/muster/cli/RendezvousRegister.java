package dev.muster.cli;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import dev.muster.json.Json;
import dev.muster.rendezvous.Record;
import dev.muster.rendezvous.Store;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code muster rendezvous register NAME --host H --port P ...}: records this job as NAME's provider. */
final class RendezvousRegister extends RendezvousSubcommand {
    @Override
    boolean option(String f, Args a, RendezvousArgs o) {
        switch (f) {
            case "--job-id" -> o.jobId = a.value(f);
            case "--host" -> o.host = a.value(f);
            case "--port" -> o.port = a.integer(f, 0, 65535);
            case "--service" -> o.service = a.value(f);
            case "--protocol" -> o.protocol = a.value(f);
            case "--path" -> o.path = a.value(f);
            case "--ttl-seconds" -> {
                String v = a.value(f);
                try {
                    o.ttlSeconds = Long.parseLong(v.trim());
                } catch (NumberFormatException e) {
                    o.ttlSeconds = -1;
                }
                if (o.ttlSeconds < 0) {
                    throw MusterException.usage(
                            name() + ": --ttl-seconds '" + v + "' is not a whole number of " + "seconds");
                }
            }
            case "--metadata" -> {
                String v = a.value(f);
                int eq = v.indexOf('=');
                if (eq <= 0) {
                    throw MusterException.usage(name() + ": --metadata '" + v + "' is not KEY=VALUE");
                }
                o.metadata.put(v.substring(0, eq), v.substring(eq + 1));
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    @Override
    void check(RendezvousArgs o, Context ctx) {
        if (o.host == null) {
            throw MusterException.usage(name() + ": --host is required");
        }
        if (o.port == null) {
            throw MusterException.usage(name() + ": --port is required");
        }
        o.requireJobId(name(), ctx.env());
    }

    @Override
    int act(RendezvousArgs o, Store store, Context ctx) {
        Store.Registration reg = store.register(
                o.names.get(0), o.jobId, o.service, o.host, o.port, o.protocol, o.path, o.ttlSeconds, o.metadata);
        Record r = reg.record();
        if (o.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("schema_version", Record.SCHEMA_VERSION);
            m.put("cache_dir", store.cache().given());
            m.put("record_path", reg.historyFile().toString());
            m.put("record", r.toMap());
            ctx.out().print(Json.pretty(m) + "\n");
        } else {
            ctx.out()
                    .print("registered rendezvous: " + r.name() + "\n"
                            + "url: " + SafeText.field(r.url()) + "\n"
                            + "job id: " + SafeText.field(r.jobId()) + "\n"
                            + "record: " + SafeText.field(reg.historyFile().toString()) + "\n");
        }
        return ExitCodes.OK;
    }
}
