package dev.muster.cli;

import dev.muster.core.Caller;
import dev.muster.core.Clock;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tests of {@code muster rendezvous} share: a temporary cache directory, the task's environment to fill,
 * the log captured as the command's stderr, and {@link #run} calling the command as {@link Main} would, leaving
 * what it printed in {@link #out} and {@link #err}.
 */
abstract class RendezvousCommandFixture {
    @TempDir
    Path tmp;

    final Map<String, String> env = new HashMap<>();
    final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    String out;
    String err;

    @BeforeEach
    void captureLog() {
        Log.to(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreLog() {
        Log.to(System.err);
        Log.level(Log.Level.NORMAL);
    }

    /** Runs the command as Main would: errors become one line on stderr and the status. */
    int run(Clock clock, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        errBytes.reset();
        int status;
        try (PrintStream ps = new PrintStream(o, true, StandardCharsets.UTF_8)) {
            try {
                status = new RendezvousCommand()
                        .run(List.of(args), new Context(env, ps, System.err, clock, Caller::self));
            } catch (MusterException e) {
                Log.error(e.getMessage());
                status = e.status();
            }
        }
        out = o.toString(StandardCharsets.UTF_8);
        err = errBytes.toString(StandardCharsets.UTF_8);
        return status;
    }

    int run(String... args) {
        return run(Clock.SYSTEM, args);
    }

    /** The rendezvous cache directory (not created: the commands create it). */
    String cache() {
        return tmp.resolve("cache").toString();
    }
}
