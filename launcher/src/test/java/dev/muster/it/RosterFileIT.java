package dev.muster.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MUSTER_ROSTER under {@code muster local -n 3} (real tasks): the file is there for the program, holds the roster
 * of all three tasks with their published values, and is gone within seconds of the program's end.
 */
class RosterFileIT {
    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    @Test
    @Timeout(60)
    void rosterFile_readableByTheProgram_goneAfterItEnds() throws Exception {
        Path d = cluster.dir();
        List<String> cmd = new ArrayList<>(Cluster.muster(Jdk.J25));
        cmd.addAll(List.of(
                "local",
                "-n",
                "3",
                "--timeout",
                "30",
                "--publish",
                "role=r$MUSTER_RANK",
                "--",
                "sh",
                "-c",
                "cp \"$MUSTER_ROSTER\" " + d + "/copy-$MUSTER_RANK.json && echo \"$MUSTER_ROSTER\" > " + d
                        + "/path-$MUSTER_RANK"));
        Run.Result r = cluster.run(Duration.ofSeconds(45), Cluster.env(Jdk.J25), cmd);
        assertEquals(0, r.exit(), r.describe());
        for (int rank = 0; rank < 3; rank++) {
            String json = Files.readString(d.resolve("copy-" + rank + ".json"));
            assertTrue(json.startsWith("{\"version\":1,\"size\":3,\"ranks\":["), json);
            assertTrue(
                    json.contains("\"values\":{\"role\":\"r$MUSTER_RANK\"}"), "a value is published verbatim\n" + json);
            Path file = Path.of(Files.readString(d.resolve("path-" + rank)).trim());
            await().atMost(Duration.ofSeconds(15))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> !Files.exists(file));
        }
    }
}
