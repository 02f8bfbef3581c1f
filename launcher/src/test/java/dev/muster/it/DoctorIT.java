package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.testing.Slurm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code muster doctor} under srun -N 2: a visibility time when the directory is shared, "not shared" when not. */
class DoctorIT {
    @TempDir
    Path tmp;

    private String doctor(SlurmSteps s) {
        return SlurmSteps.JVM + " doctor --sync-dir " + s.sync + " --timeout 4s";
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sharedDirectory_reportsAVisibilityTime() throws Exception {
        SlurmSteps s = new SlurmSteps(tmp);
        Path task = s.script("task.sh", doctor(s) + " 2> $D/err.$r");
        assertEquals(0, s.run(2, 2, task, Duration.ofSeconds(50)), s::errs);
        String out = s.read("out.0");
        assertTrue(out.contains("shared yes"), out);
        assertTrue(out.matches("(?s).*visibility\\.new_file_ms [0-9.]+\n.*"), out);
        assertTrue(out.matches("(?s).*visibility\\.write_ms [0-9.]+\n.*"), out);
        List<String> nodes = Slurm.nodes();
        assertTrue(out.contains("visibility.between " + nodes.get(0) + " " + nodes.get(1)), out);
        assertTrue(out.contains("sync_dir.permissions ok"), out);
        assertTrue(out.contains("sync_dir.polls pread-held"), out); // a node-local directory: polls hold the file
        assertTrue(out.matches("(?s).*recommend\\.poll_max [0-9]+ms\n.*"), out);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void tasksSeeingDifferentDirectories_sayNotShared() throws Exception {
        SlurmSteps s = new SlurmSteps(tmp);
        // rank 1 in its own mount namespace with a fresh tmpfs over the sync directory
        Path task = s.script(
                "task.sh",
                ""
                        + "if [ $r = 1 ]; then exec unshare -m -- bash -c 'mount -t tmpfs -o mode=700 none " + s.sync
                        + " && exec " + doctor(s) + "' 2> $D/err.$r; fi\n"
                        + doctor(s) + " 2> $D/err.$r");
        int rc = s.run(2, 2, task, Duration.ofSeconds(50));
        assertEquals(77, rc, s::errs);
        assertTrue(s.read("out.0").contains("shared no"), s.read("out.0"));
        assertTrue(s.read("out.1").contains("shared no"), s.read("out.1"));
        assertTrue(s.read("err.0").contains("is not shared"), s.read("err.0"));
    }
}
