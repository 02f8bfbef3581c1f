package dev.muster.exec;

import java.util.function.Consumer;

/**
 * The one class that touches {@code sun.misc.Signal}, the only JDK way to catch TERM, INT, HUP and USR1. javac
 * warns about every use of that "internal proprietary API", and the warning cannot be suppressed; so this class
 * lives in its own source root, compiled without -Werror and after the main one (see launcher/pom.xml), and
 * {@link Signals} creates it by reflection once and calls it through {@link Signals.Backend}. A plain class rather
 * than a java.lang.reflect.Proxy: generating a proxy cost a cold JVM tens of milliseconds, on every task.
 */
public final class SunSignals implements Signals.Backend {
    public SunSignals() {
        // created by Signals, reflectively
    }

    private static final class Handler implements sun.misc.SignalHandler {
        private final String name;
        private final Consumer<String> target;

        Handler(String name, Consumer<String> target) {
            this.name = name;
            this.target = target;
        }

        @Override
        public void handle(sun.misc.Signal signal) {
            target.accept(name);
        }
    }

    @Override
    public Object handle(String name, Consumer<String> target) {
        Object previous = sun.misc.Signal.handle(new sun.misc.Signal(name), new Handler(name, target));
        return previous instanceof Handler ? null : previous;
    }

    @Override
    public void restore(String name, Object previous) {
        sun.misc.Signal.handle(new sun.misc.Signal(name), (sun.misc.SignalHandler) previous);
    }

    @Override
    public void reset(String name) {
        sun.misc.Signal.handle(new sun.misc.Signal(name), sun.misc.SignalHandler.SIG_DFL);
    }

    @Override
    public void raise(String name) {
        sun.misc.Signal.raise(new sun.misc.Signal(name));
    }
}
