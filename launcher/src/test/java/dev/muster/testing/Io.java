package dev.muster.testing;

import java.io.IOException;
import java.io.UncheckedIOException;

/** File work scheduled where only a {@link Runnable} fits (e.g. {@link ManualClock#at}). */
public final class Io {
    private Io() {}

    /** Work that may throw {@link IOException}. */
    public interface Action {
        void run() throws IOException;
    }

    /** {@code a} as a Runnable that rethrows its IOException unchecked. */
    public static Runnable unchecked(Action a) {
        return () -> {
            try {
                a.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }
}
