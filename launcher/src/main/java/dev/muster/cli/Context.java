package dev.muster.cli;

import dev.muster.core.Caller;
import dev.muster.core.Clock;
import java.io.PrintStream;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What a command runs against: the environment, stdout for data, stderr for usage text, the clock and the calling
 * user. {@link Main} passes the process's own; tests pass buffers, a map and a manual clock.
 */
record Context(Map<String, String> env, PrintStream out, PrintStream err, Clock clock, Supplier<Caller> caller) {
    /**
     * The process's own streams and environment. Clock and caller are left to their accessors: a run that never
     * reads the time or asks who it is loads neither, and no method reference is made on the start-up path (the
     * first one of a JVM starts the lambda machinery, milliseconds that {@code --version} must not pay).
     */
    static Context of(Map<String, String> env) {
        return new Context(env, System.out, System.err, null, null);
    }

    /** The clock a test gave, else the system's. */
    @Override
    public Clock clock() {
        return clock != null ? clock : Clock.SYSTEM;
    }

    /** Who is asking, as a test gave it, else this process's user. */
    @Override
    public Supplier<Caller> caller() {
        return caller != null ? caller : Caller::self;
    }
}
