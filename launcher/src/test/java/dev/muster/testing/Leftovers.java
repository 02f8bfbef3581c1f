package dev.muster.testing;

import dev.muster.barrier.CleanupDue;
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
     * Waits, once every task of the test's steps has ended, for each clean-up helper that is bound to finish by
     * itself ({@link CleanupDue}): a released step whose tasks all departed is removed by its helper, which renames
     * and deletes the step directory while the caller would be deleting the same tree. A due helper still running
     * after {@code HELPER_EXIT} is a problem (a released step's directory not removed), reported and killed.
     * Helpers waiting, by design, for departures or an outcome that will not come are left to {@link #helpers}.
     */
    public static List<String> awaitCleanups(List<String> marks) {
        List<String> problems = new ArrayList<>();
        try {
            Awaitility.await()
                    .atMost(HELPER_EXIT)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> due(marks).isEmpty());
        } catch (ConditionTimeoutException e) {
            for (ProcessHandle h : due(marks)) {
                List<String> args = List.of(cmdline(h).split("\0"));
                int at = args.indexOf("muster-cleanup");
                String what =
                        at >= 0 && at + 1 < args.size() ? "of " + args.get(at + 1) : "(" + String.join(" ", args) + ")";
                problems.add("clean-up helper " + h.pid() + " " + what + " had not removed its released step "
                        + HELPER_EXIT.toSeconds() + " s after every task departed");
                h.destroyForcibly();
            }
        }
        return problems;
    }

    private static List<ProcessHandle> due(List<String> marks) {
        List<ProcessHandle> out = new ArrayList<>();
        for (ProcessHandle h : ours(marks, false)) {
            if (CleanupDue.removing(cmdline(h))) {
                out.add(h);
            }
        }
        for (ProcessHandle h : ours(marks, true)) {
            List<String> args = List.of(cmdline(h).split("\0"));
            int at = args.indexOf("muster-cleanup");
            if (at >= 0 && at + 2 < args.size()) {
                try {
                    if (CleanupDue.due(Path.of(args.get(at + 1)), Integer.parseInt(args.get(at + 2)))) {
                        out.add(h);
                    }
                } catch (RuntimeException e) {
                    out.add(h); // not a helper's arguments: wait for it, and report it if it stays
                }
            }
        }
        return out;
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
