package dev.muster.exec;

import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Java 17–21, where there is no execve: the program runs as a child with muster's stdin, stdout and stderr;
 * TERM, INT, HUP and USR1 are forwarded to it; muster exits with the child's code, or dies by the child's signal.
 * The child has a PID of its own and does not inherit descriptors ≥ 3.
 */
final class ChildExec {
    private ChildExec() {}

    static int run(String path, List<String> argv, Map<String, String> env, Runnable afterChild) {
        List<String> cmd = new ArrayList<>(argv);
        cmd.set(0, path);
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().clear();
        pb.environment().putAll(env);
        // The handlers go in before the child starts: a USR1 that came between the start and the handlers would
        // meet the JVM's default action for it, which ends muster. A signal that comes before the child has a PID
        // is held and sent as soon as it has one.
        Forwarder forward = new Forwarder();
        for (String sig : Signals.FORWARDED) {
            Signals.handle(sig, forward::signal);
        }
        Process child;
        try {
            child = pb.start();
        } catch (IOException e) {
            throw new MusterException(ExitCodes.NOT_EXECUTABLE, "cannot start " + path + ": " + e.getMessage());
        }
        forward.started(child.pid());
        int code;
        while (true) {
            try {
                code = child.waitFor();
                break;
            } catch (InterruptedException e) {
                // keep waiting: the child decides when this ends
            }
        }
        if (afterChild != null) {
            try {
                afterChild.run();
            } catch (RuntimeException e) {
                Log.warn("after the program ended: " + e.getMessage());
            }
        }
        // The JDK reports a child killed by signal n as 128 + n; die the same way so srun sees the same thing.
        if (code > 128 && code < 128 + 32) {
            Signals.dieBy(code - 128);
        }
        return code;
    }

    /** Sends each forwarded signal to the child, holding those that come before the child has a PID. */
    private static final class Forwarder {
        private final List<String> held = new ArrayList<>();
        private long pid = -1;

        synchronized void signal(String sig) {
            if (pid < 0) {
                held.add(sig);
            } else {
                Signals.send(pid, sig);
            }
        }

        synchronized void started(long childPid) {
            pid = childPid;
            for (String sig : held) {
                Signals.send(pid, sig);
            }
            held.clear();
        }
    }
}
