package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.testing.Run;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * scripts/muster's start-up archive, in every state it can be found in (none, valid, truncated, garbage, made for
 * another jar), on every JDK here: the program's stdout is byte for byte what it is without muster, and a valid
 * archive is used. The checks are scripts/cds-check's, run here so that they cannot rot.
 */
@Timeout(600)
class StartupArchiveIT {
    @Test
    void staleTruncatedOrMissingArchive_neverTouchesTheProgramsStdout() {
        Run.Result r = Cluster.withoutSlurm()
                .run(
                        Duration.ofSeconds(540),
                        Map.of(),
                        List.of(
                                "bash",
                                Cluster.root().resolve("scripts/cds-check").toString()));
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains(" passed, 0 failed"), r.out());
        assertTrue(r.out().contains("truncated") && r.out().contains("garbage"), r.out());
    }
}
