package dev.muster.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ForceSync;
import dev.muster.core.MusterException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * doctor's visibility measurement between a leader and a follower on one local directory (two threads here; the
 * two-node case is DoctorIT): both sides finish, the leader names the follower's node and removes the directory,
 * and a side left alone gives up at its deadline.
 */
class VisibilityPingTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void leaderAndFollower_measureEachStep_andTheLeaderCleansUp() throws Exception {
        Path dir = tmp.resolve("ping");
        CompletableFuture<VisibilityPing.Result> follower =
                CompletableFuture.supplyAsync(() -> VisibilityPing.follow(dir, "n2", Duration.ofSeconds(100)));
        VisibilityPing.Result lead = VisibilityPing.lead(dir, "n1", Duration.ofSeconds(100));
        VisibilityPing.Result follow = follower.get(100, TimeUnit.SECONDS);
        assertEquals("n2", lead.peerNode());
        assertTrue(lead.newFileMillis() >= 0 && lead.writeMillis() >= 0, lead.toString());
        if (ForceSync.available()) {
            assertTrue(lead.forcedWriteMillis() >= 0, lead.toString());
        } else {
            assertEquals(-1, lead.forcedWriteMillis());
        }
        assertEquals(new VisibilityPing.Result(0, 0, -1, ""), follow);
        assertFalse(Files.exists(dir), "the leader removes the directory");
    }

    @Test
    @Timeout(60)
    void aSideLeftAlone_givesUpAtItsDeadline() {
        Path dir = tmp.resolve("ping");
        assertNull(VisibilityPing.lead(dir, "n1", Duration.ofMillis(200)));
        assertFalse(Files.exists(dir), "removed even when nobody answered");
        assertNull(VisibilityPing.follow(dir, "n2", Duration.ofMillis(200)));
        assertTrue(Files.isDirectory(dir), "the follower made it, and leaves it to the leader");
    }

    @Test
    void anUnwritableDirectory_is77() throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        MusterException e = assertThrows(
                MusterException.class, () -> VisibilityPing.lead(file.resolve("ping"), "n1", Duration.ofSeconds(5)));
        assertEquals(77, e.status());
        assertTrue(e.getMessage().startsWith("doctor: cannot write in " + file.resolve("ping")), e.getMessage());
        MusterException f = assertThrows(
                MusterException.class, () -> VisibilityPing.follow(file.resolve("ping"), "n2", Duration.ofSeconds(5)));
        assertEquals(77, f.status());
    }
}
