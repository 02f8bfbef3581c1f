package dev.muster.cli;

import dev.muster.barrier.StepSync;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.exec.Signals;
import dev.muster.service.StartUp;
import dev.muster.task.TaskIdentity;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/** {@code run}'s {@code --start} services at the start of a task: started with the task's identity, probed. */
final class RunServices {
    private RunServices() {}

    /**
     * Starts the services and waits for the probes. A failure stops the services and aborts the step with the
     * reason; a signal meanwhile does the same and then ends muster by that signal, as while waiting at the
     * barrier.
     */
    static void start(StartUp startUp, Map<String, String> env, TaskIdentity id, StepSync sync) {
        AtomicReference<String> signal = new AtomicReference<>();
        Thread waiting = Thread.currentThread();
        for (String sig : Signals.CAUGHT) {
            Signals.handle(sig, s -> {
                signal.compareAndSet(null, s);
                waiting.interrupt();
            });
        }
        try {
            // the services get the task's identity: a port of BASE + MUSTER_RANK is written in the command
            Map<String, String> serviceEnv = new TreeMap<>(env);
            serviceEnv.putAll(identityVars(id));
            startUp.start(serviceEnv, Posix.pid());
            startUp.awaitReady(() -> signal.get() != null);
        } catch (MusterException e) {
            String sig = signal.get();
            MusterException cause = sig == null
                    ? e
                    : new MusterException(
                            128 + Signals.number(sig),
                            "rank " + id.rank() + " was stopped by SIG" + sig
                                    + " while its --start services were starting");
            startUp.stop();
            if (sync != null) {
                sync.abort(cause.status(), cause.getMessage());
            }
            if (sig != null) {
                Log.error("stopped by SIG" + sig + " while waiting for --arrive-when");
                Signals.dieBy(Signals.number(sig));
            }
            throw cause;
        } finally {
            Thread.interrupted();
            Signals.restoreOriginal(Signals.CAUGHT);
        }
    }

    private static Map<String, String> identityVars(TaskIdentity id) {
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("MUSTER_RANK", Integer.toString(id.rank()));
        vars.put("MUSTER_SIZE", Integer.toString(id.size()));
        vars.put("MUSTER_LOCAL_RANK", Integer.toString(id.localRank()));
        vars.put("MUSTER_NODE", id.node());
        return vars;
    }
}
