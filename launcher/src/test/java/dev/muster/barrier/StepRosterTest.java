package dev.muster.barrier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The step's roster as the barrier carries it ({@link StepRoster}): the roster file rank 0 defers past the release. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StepRosterTest {
    @TempDir
    Path root;

    @Test
    void everyTaskStreamedTo_theRosterFileIsStillWritten_afterTheRelease() throws IOException {
        Ranks r = new Ranks(root, "step", 3, Transport.Mode.TCP, Duration.ofSeconds(20));
        r.cards = i -> RosterTest.card(i, 1);
        try {
            Map<String, String> data = Map.of(Release.MASTER_ADDR, "10.0.0.1", Roster.WANTED, "1");
            List<CompletableFuture<Ranks.Result>> fs = new ArrayList<>();
            fs.add(r.start(0, data));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> r.barrier(1).polls().endpoint() != null);
            fs.add(r.start(1, data));
            await().atMost(Duration.ofSeconds(10)).until(() -> r.connected() == 1);
            fs.add(r.start(2, data));
            for (CompletableFuture<Ranks.Result> f : fs) {
                assertEquals(0, f.join().code(), () -> String.valueOf(f.join().failure()));
            }
            Ranks.Result zero = fs.get(0).join();
            assertEquals("tcp", zero.outcome().data().get(Roster.VIA));
            // for a task that learns the release from the outcome file after all (RosterFiles#read waits for it)
            assertArrayEquals(
                    zero.roster(), Files.readAllBytes(root.resolve("step").resolve(RosterFiles.ROSTER)));
        } finally {
            r.close();
        }
    }
}
