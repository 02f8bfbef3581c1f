package dev.muster.it;

import dev.muster.testing.Slurm;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The two ways a connected task waits for the release (docs/barrier.md, "The small waiter"): in its JVM, or in
 * the small waiter that the JVM execs. The fault tests of the TCP path run both. The waiter is what
 * {@code scripts/build-native} built beside the jar under test (scripts/test builds it before Maven); where it is
 * missing the waiter's cases skip, and fail under MUSTER_REQUIRE_SLURM=1.
 */
enum Waiters {
    /** In the JVM: {@code --no-waiter}. */
    JVM("--no-waiter"),
    /** In the small waiter, the default where it is installed. */
    WAITER("");

    /** What muster run is given for this way. */
    final String option;

    Waiters(String option) {
        this.option = option;
    }

    /**
     * The line a task prints under --verbose once rank 0 accepted its hello: its JVM, or its waiter, which sends
     * the hello itself (so a task that printed {@link #HANDED} may not have said hello yet).
     */
    static final String CONNECTED = "connected to rank 0";

    /** The line a task prints under --verbose when the waiter takes its wait over. */
    static final String HANDED = "handing the wait to";

    /** The waiter muster finds beside the jar of a source tree (target/native/linux-<arch>/). */
    static Path binary() {
        String arch = System.getProperty("os.arch");
        return Cluster.root()
                .resolve("target/native/linux-" + (arch.equals("amd64") ? "x86_64" : arch) + "/muster-wait");
    }

    /** Skips (or fails under MUSTER_REQUIRE_SLURM=1) a waiter case where the waiter was not built. */
    void require() {
        if (this == WAITER && !Files.isExecutable(binary())) {
            Slurm.unavailable(binary() + " is missing: run scripts/build-native (needs cc)");
        }
    }

    /** Whether a task's verbose stderr shows the wait taken the way this case asks for. */
    boolean tookIt(String verboseErr) {
        return (this == WAITER) == verboseErr.contains(HANDED);
    }
}
