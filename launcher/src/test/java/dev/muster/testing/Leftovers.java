package dev.muster.testing;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Processes a test left running: found by the test's directories in their command lines, reported, killed. */
public final class Leftovers {
    private Leftovers() {
    }

    /**
     * Processes that mention one of {@code marks} (a test's directories) in their command line. The barrier's clean-up helper is
     * bounded by design (it outlives a killed step until its deadline) and is ended quietly; anything else is
     * reported, then killed.
     */
    public static List<String> kill(List<String> marks) {
        List<String> problems = new ArrayList<>();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                    .until(() -> ours(marks, false).isEmpty());
        } catch (ConditionTimeoutException e) {
            for (ProcessHandle h : ours(marks, false)) {
                problems.add("process " + h.pid() + " (" + cmdline(h).replace('\0', ' ').trim() + ")");
            }
        }
        ours(marks, true).forEach(ProcessHandle::destroyForcibly);
        return problems;
    }

    private static List<ProcessHandle> ours(List<String> marks, boolean withCleanupHelper) {
        return ProcessHandle.allProcesses()
                .filter(h -> h.pid() != ProcessHandle.current().pid())
                .filter(h -> marks.stream().anyMatch(cmdline(h)::contains))
                .filter(h -> withCleanupHelper || !cmdline(h).contains("muster-cleanup"))
                .collect(Collectors.toList());
    }

    private static String cmdline(ProcessHandle h) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")),
                    StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
