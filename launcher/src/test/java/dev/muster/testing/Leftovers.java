package dev.muster.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** Processes a test left running: found by the test's directories in their command lines, reported, killed. */
public final class Leftovers {
    private Leftovers() {}

    /**
     * Processes that mention one of {@code marks} (a test's directories) in their command line, other than the
     * barrier's clean-up helper: reported, then killed. The helper is bounded by design (it outlives a killed step
     * until its deadline, waiting for departures that will never come), so it is checked by {@link #helpers}
     * once the test's directories are gone.
     */
    public static List<String> kill(List<String> marks) {
        List<String> problems = new ArrayList<>();
        try {
            Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> ours(marks, false).isEmpty());
        } catch (ConditionTimeoutException e) {
            for (ProcessHandle h : ours(marks, false)) {
                problems.add("process " + h.pid() + " ("
                        + cmdline(h).replace('\0', ' ').trim() + ")");
            }
        }
        ours(marks, false).forEach(ProcessHandle::destroyForcibly);
        return problems;
    }

    /**
     * Clean-up helpers of the test's steps still running once the test's directories were removed: a helper
     * must notice that its step directory is gone and exit by itself within its longest poll (1 s); one that
     * does not within {@code HELPER_EXIT} is reported, then killed.
     */
    public static List<String> helpers(List<String> marks) {
        List<String> problems = new ArrayList<>();
        try {
            Awaitility.await()
                    .atMost(HELPER_EXIT)
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> ours(marks, true).isEmpty());
        } catch (ConditionTimeoutException e) {
            for (ProcessHandle h : ours(marks, true)) {
                problems.add("clean-up helper " + h.pid() + " still running " + HELPER_EXIT.toSeconds()
                        + " s after its step directory was removed ("
                        + cmdline(h).replace('\0', ' ').trim() + ")");
            }
        }
        ours(marks, true).forEach(ProcessHandle::destroyForcibly);
        return problems;
    }

    /** Ten times the helper's longest poll, for a loaded machine. */
    private static final Duration HELPER_EXIT = Duration.ofSeconds(10);

    private static List<ProcessHandle> ours(List<String> marks, boolean cleanupHelpers) {
        return ProcessHandle.allProcesses()
                .filter(h -> h.pid() != ProcessHandle.current().pid())
                .filter(h -> marks.stream().anyMatch(cmdline(h)::contains))
                .filter(h -> cmdline(h).contains("muster-cleanup") == cleanupHelpers)
                .collect(Collectors.toList());
    }

    private static String cmdline(ProcessHandle h) {
        try {
            return new String(
                    Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
