package dev.muster.testing;

import dev.muster.barrier.CleanupDue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
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
     * and deletes the step directory while the caller would be deleting the same tree. Judged by the files, which
     * change one way only (the step directory, then its renamed {@code .gone.} copy, then nothing), and by the
     * helpers' command lines, which name the step directories: a helper's shell becomes its final {@code rm} by
     * exec, and a scan during that exec may not see it, but the renamed copy is there until the {@code rm} ends.
     * Not done within {@code HELPER_EXIT}: a problem (a released step's directory not removed), the helpers killed.
     * Helpers waiting, by design, for departures or an outcome that will not come are left to {@link #helpers}.
     */
    public static List<String> awaitCleanups(List<String> marks) {
        Map<Path, Integer> steps = new LinkedHashMap<>();
        try {
            Awaitility.await()
                    .atMost(HELPER_EXIT)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> unsettled(marks, steps).isEmpty());
            return List.of();
        } catch (ConditionTimeoutException e) {
            List<String> problems = new ArrayList<>();
            for (Path p : unsettled(marks, steps)) {
                problems.add("the clean-up helper had not removed " + p + " " + HELPER_EXIT.toSeconds()
                        + " s after every task of its released step departed");
            }
            ours(marks, true).forEach(ProcessHandle::destroyForcibly);
            return problems;
        }
    }

    /**
     * What is still to be removed: due step directories of the helpers seen so far ({@code steps}, added to by
     * this scan), and renamed copies ({@code .gone.}) in the test's directories and their subdirectories.
     */
    private static List<Path> unsettled(List<String> marks, Map<Path, Integer> steps) {
        ProcessHandle.allProcesses().forEach(h -> {
            List<String> args = List.of(cmdline(h).split("\0"));
            int at = args.indexOf("muster-cleanup");
            if (at >= 0 && at + 2 < args.size() && marks.stream().anyMatch(args.get(at + 1)::startsWith)) {
                try {
                    steps.put(Path.of(args.get(at + 1)), Integer.parseInt(args.get(at + 2)));
                } catch (RuntimeException e) {
                    // not a helper's arguments
                }
            }
        });
        List<Path> left = new ArrayList<>();
        for (Map.Entry<Path, Integer> s : steps.entrySet()) {
            if (Files.isDirectory(s.getKey()) && CleanupDue.due(s.getKey(), s.getValue())) {
                left.add(s.getKey());
            }
        }
        for (String m : marks) {
            if (!Files.isDirectory(Path.of(m))) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(Path.of(m), 2)) {
                walk.filter(p -> CleanupDue.renamedAway(p.getFileName().toString()))
                        .forEach(left::add);
            } catch (IOException | java.io.UncheckedIOException e) {
                left.add(Path.of(m)); // something vanished under the walk: a removal is going on; look again
            }
        }
        return left;
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
