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
    static Context of(Map<String, String> env) {
        return new Context(env, System.out, System.err, Clock.SYSTEM, SELF);
    }

    /**
     * A class, not {@code Caller::self}: the first method reference of a JVM starts the lambda machinery, tens of
     * milliseconds that {@code muster --version} and the start of {@code run} must not pay.
     */
    private static final Supplier<Caller> SELF = new Supplier<>() {
        @Override
        public Caller get() {
            return Caller.self();
        }
    };
}
