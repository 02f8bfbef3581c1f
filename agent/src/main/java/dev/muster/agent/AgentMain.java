package dev.muster.agent;

import java.lang.instrument.Instrumentation;

/**
 * The {@code Premain-Class}: a trampoline that does nothing but call {@link Agent} and catch everything. A fault
 * in the agent's own code must never kill the host JVM: it costs one line on stderr and {@code main} runs without
 * the barrier. The agent's deliberate exits (a bad option, a timed-out or aborted barrier) are
 * {@code System.exit} calls inside {@link Agent}, which never return here.
 */
public final class AgentMain {
    private AgentMain() {}

    public static void premain(String args, Instrumentation inst) {
        try {
            Agent.start(args, inst);
        } catch (Throwable t) {
            failed(t);
        }
    }

    /** One line, whatever state the agent is in; the stack only when verbose. */
    static void failed(Throwable t) {
        try {
            String prefix = "muster[-] ";
            boolean verbose = false;
            try {
                prefix = dev.muster.core.Log.prefix();
                verbose = dev.muster.core.Log.verbose();
            } catch (Throwable ignored) {
                // the log itself is broken: keep the plain prefix
            }
            System.err.print(prefix + "error: the muster agent failed (" + t + "); the application starts without "
                    + "the barrier; please report this" + (verbose ? "" : " (verbose=true shows the stack)") + "\n");
            if (verbose) {
                t.printStackTrace();
            }
            System.err.flush();
        } catch (Throwable ignored) {
            // nothing left to say it with
        }
    }
}
