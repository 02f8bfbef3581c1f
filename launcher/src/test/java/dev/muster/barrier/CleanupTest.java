package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.testing.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Removal of a released step's directory once every task has departed: in process (the agent) and by the detached
 * shell helper (run, barrier), which leaves an aborted step's files to sweep. Real files, a real /bin/sh.
 */
class CleanupTest {
    @TempDir
    Path root;

    private Path step(String key, Outcome outcome, int departed) throws IOException {
        StepFiles f = new StepFiles(root, key, 2);
        f.create(0);
        StepFiles.fill(f.outcomeFile, outcome.encode());
        for (int r = 0; r < departed; r++) {
            Files.createFile(f.departureDir.resolve(Integer.toString(r)));
        }
        Files.createFile(f.departureDir.resolve("not-a-rank"));
        return f.dir;
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static boolean helperRunsFor(Path dir) {
        return ProcessHandle.allProcesses()
                .anyMatch(p -> p.info().commandLine().orElse("").contains("muster-cleanup " + dir + " "));
    }

    @Test
    void inProcess_removesTheStepOnceEveryTaskDeparted_andNothingIsLeft() throws IOException {
        Path dir = step("k", Outcome.release(0, Map.of()), 2);
        Cleanup.inProcess(dir, 2, Duration.ofSeconds(30));
        assertEquals(List.of(), names(), "neither the step nor its renamed remains");
    }

    @Test
    void inProcess_missingADeparture_givesUpAtTheBound_andLeavesTheStepToSweep() throws IOException {
        Path dir = step("k", Outcome.release(0, Map.of()), 1);
        Cleanup.inProcess(dir, 2, Duration.ZERO);
        assertEquals(List.of("k"), names());
        assertTrue(Files.isDirectory(dir.resolve(StepFiles.DEPARTURE)));
    }

    @Test
    @Timeout(60)
    void inProcess_waitsForTheLastDeparture_withinItsBound_thenRemovesTheStep() throws Exception {
        Path dir = step("k", Outcome.release(0, Map.of()), 1);
        Thread t = new Thread(() -> Cleanup.inProcess(dir, 2, Duration.ofSeconds(30)));
        t.start();
        Await.until(
                "the clean-up waits between looks",
                Duration.ofSeconds(50),
                () -> t.getState() == Thread.State.TIMED_WAITING || !t.isAlive());
        assertTrue(t.isAlive(), "gave up long before its bound");
        assertEquals(List.of("k"), names(), "one task has not departed");
        Files.createFile(dir.resolve(StepFiles.DEPARTURE).resolve("1"));
        t.join();
        assertEquals(List.of(), names());
    }

    @Test
    void inProcess_interrupted_leavesTheStep_andKeepsTheInterrupt() throws IOException {
        Path dir = step("k", Outcome.release(0, Map.of()), 1);
        Thread.currentThread().interrupt();
        try {
            Cleanup.inProcess(dir, 2, Duration.ofSeconds(30));
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
        assertEquals(List.of("k"), names());
    }

    @Test
    void inProcess_ofAStepAlreadyGone_returnsQuietly() throws IOException {
        Cleanup.inProcess(root.resolve("gone"), 2, Duration.ofSeconds(30));
        assertEquals(List.of(), names());
    }

    @Test
    void helper_startedWhileInterrupted_keepsTheInterrupt() {
        Thread.currentThread().interrupt();
        try {
            Cleanup.start(root.resolve("none"), 2, Duration.ofSeconds(1)); // no step directory: the loop ends at once
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    @Timeout(60)
    void helper_removesAReleasedStep_afterTheLastDeparture() throws IOException {
        Path dir = step("k", Outcome.release(0, Map.of()), 1);
        Cleanup.start(dir, 2, Duration.ofSeconds(30));
        Await.until("the helper waits for the last departure", Duration.ofSeconds(50), () -> helperRunsFor(dir));
        assertTrue(Files.isDirectory(dir), "one task has not departed");
        Files.createFile(dir.resolve(StepFiles.DEPARTURE).resolve("1"));
        Await.until("the step directory is removed", Duration.ofSeconds(50), () -> names().isEmpty());
        Await.until("the helper is gone", Duration.ofSeconds(50), () -> !helperRunsFor(dir));
    }

    /**
     * The integration tests' harness waits for a released step's helper before it deletes the test's directories
     * (dev.muster.testing.Leftovers#awaitCleanups): when it returns, the step and its renamed copy are gone and no
     * helper or its final rm is left, whatever the helper was doing when the wait began. Many steps, each with a
     * deeper tree to delete, so that the wait often begins inside the rename or the removal.
     */
    @Test
    @Timeout(60)
    void harnessWait_returnsOnlyOnceEveryReleasedStepIsRemoved() throws IOException {
        for (int i = 0; i < 20; i++) {
            Path dir = step("k" + i, Outcome.release(0, Map.of()), 2);
            for (int f = 0; f < 200; f++) {
                Files.createFile(dir.resolve("arrival").resolve("x" + f));
            }
            Cleanup.start(dir, 2, Duration.ofSeconds(30));
            java.util.List<String> problems = dev.muster.testing.Leftovers.awaitCleanups(List.of(root.toString()));
            assertEquals(List.of(), problems);
            assertEquals(List.of(), names(), "step " + i + ": nothing left once the wait returned");
        }
    }

    @Test
    @Timeout(60)
    void helper_leavesAnAbortedStepsFilesForDiagnosis() throws IOException {
        Path dir = step("k", Outcome.abort(1, 127, "command not found: x"), 2);
        Cleanup.start(dir, 2, Duration.ofSeconds(30));
        Await.until("the helper ends", Duration.ofSeconds(50), () -> !helperRunsFor(dir));
        assertEquals(List.of("k"), names());
        assertFalse(names().stream().anyMatch(n -> n.contains(StepFiles.GONE)));
    }

    /**
     * The release written between the helper's look for it and its look for any outcome: the second look must not
     * take it for an abort and leave the step behind (seen in about 1 of 100 fast steps, where rank 0 decides the
     * release as it starts the helper). A grep in front of the real one writes the release after the first look.
     */
    @Test
    void helper_releaseWrittenBetweenItsTwoLooks_stillRemovesTheStep(@TempDir Path tools) throws Exception {
        StepFiles f = new StepFiles(root, "k", 2);
        f.create(0);
        for (int r = 0; r < 2; r++) {
            Files.createFile(f.departureDir.resolve(Integer.toString(r)));
        }
        Path grep = tools.resolve("grep");
        Files.writeString(
                grep,
                "#!/bin/sh\n"
                        + "PATH=\"$REAL_PATH\" grep \"$@\"; rc=$?\n"
                        + "[ -e \"$MARK\" ] || { : > \"$MARK\"; printf '%s' \"$RELEASE\" > \"$OUTCOME\"; }\n"
                        + "exit $rc\n");
        Files.setPosixFilePermissions(grep, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        ProcessBuilder pb =
                new ProcessBuilder("/bin/sh", "-c", Cleanup.SCRIPT, "muster-cleanup", f.dir.toString(), "2", "20");
        pb.environment().put("PATH", tools + ":" + System.getenv("PATH"));
        pb.environment().put("REAL_PATH", System.getenv("PATH"));
        pb.environment().put("MARK", tools.resolve("looked").toString());
        pb.environment().put("OUTCOME", f.outcomeFile.toString());
        pb.environment()
                .put(
                        "RELEASE",
                        new String(Outcome.release(0, Map.of()).encode(), java.nio.charset.StandardCharsets.UTF_8));
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        assertTrue(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(Files.exists(tools.resolve("looked")), "the fake grep ran");
        assertEquals(List.of(), names(), "the released step is removed");
    }
}
