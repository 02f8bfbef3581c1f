package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad roster input under {@code muster local -n 2} (real tasks, real step directory; no Slurm needed): each task
 * prints one line naming the value, exit 2, and the step ends at once (the task aborts it before arriving) instead
 * of at the 60 s timeout.
 */
class RosterBadInputIT {
    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "--address|nosuch0|no such interface",
                "--address|203.0.113.0/24|no address of this node is in that range",
                "--publish|a b=1|'a b'",
                "--publish|novalue|KEY=VALUE",
                "--publish|big=@BIG|more than 1024 bytes",
                "--port|bad/name|'bad/name'"
            })
    @Timeout(40)
    void badRosterInput_oneLinePerTask_exit2_atOnce(String flag, String value, String named) throws Exception {
        java.nio.file.Path big = cluster.dir().resolve("big");
        Files.writeString(big, "x".repeat(1025));
        List<String> cmd = new ArrayList<>(Cluster.muster(Jdk.J25));
        cmd.addAll(List.of(
                "local", "-n", "2", "--timeout", "60", flag, value.replace("BIG", big.toString()), "--", "true"));
        Run.Result r = cluster.run(Duration.ofSeconds(35), Cluster.env(Jdk.J25), cmd);
        assertEquals(2, r.exit(), r.describe());
        assertTrue(r.took().toSeconds() < 30, "ended at once, not at the timeout\n" + r.describe());
        List<String> lines = r.errLines();
        assertEquals(2, lines.size(), "one line per task\n" + r.describe());
        for (String l : lines) {
            assertTrue(l.startsWith("muster[") && l.contains(named), l);
        }
    }
}
