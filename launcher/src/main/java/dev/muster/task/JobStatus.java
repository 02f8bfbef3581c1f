package dev.muster.task;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Whether the job that wrote a record is still there, as Slurm sees it. A provider killed at once (SIGKILL, a
 * node failure, cgroup clean-up) leaves a record that lives until its TTL; asking Slurm lets {@code run} clients
 * skip it at once. Only a clear answer counts: where Slurm cannot be asked, the record stands on its TTL alone.
 */
public interface JobStatus {
    enum State {
        /** pending, running, suspended: the provider may be serving. */
        ACTIVE,
        /** completed, failed, cancelled, timed out ... or no longer known to Slurm. */
        FINISHED,
        /** no Slurm here, not a Slurm job id, or no clear answer. */
        UNKNOWN
    }

    State state(String jobId);

    /**
     * Called once when a client starts to wait: pays the one-time costs of asking (a cold JVM's first process
     * start costs tens of milliseconds) while nothing is waiting on the answer.
     */
    default void warmUp() {}

    /** Never asks: every record stands on its TTL (hpc-compose's semantics). */
    JobStatus TTL_ONLY = jobId -> State.UNKNOWN;

    /** Slurm's view through {@code squeue} (else {@code scontrol}); answers cached per job id. */
    static JobStatus slurm() {
        return new Slurm();
    }

    /** {@code squeue -h -j ID -o %T}, else {@code scontrol show job ID}, each bounded to a few seconds. */
    final class Slurm implements JobStatus {
        /** Slurm job ids: 123, an array task 123_4, a heterogeneous component 123+1. */
        private static final Pattern JOB_ID = Pattern.compile("[0-9]{1,12}([_+][0-9]{1,9})?");

        private static final Set<String> ACTIVE_STATES = Set.of(
                "PENDING",
                "RUNNING",
                "SUSPENDED",
                "CONFIGURING",
                "RESIZING",
                "REQUEUED",
                "REQUEUE_HOLD",
                "REQUEUE_FED",
                "SIGNALING",
                "STAGE_OUT",
                "STOPPED",
                "RESV_DEL_HOLD");
        private static final long CALL_TIMEOUT_MS = 5000;
        /** An active job is asked again after this: while a client verifies an endpoint it may end. */
        private static final long ACTIVE_FOR_NANOS = 2_000_000_000L;

        private final Map<String, State> finished = new ConcurrentHashMap<>();
        private final Map<String, Long> activeUntil = new ConcurrentHashMap<>();

        private Slurm() {}

        @Override
        public State state(String jobId) {
            if (jobId == null || !JOB_ID.matcher(jobId).matches()) {
                return State.UNKNOWN;
            }
            // Only "finished" is final; an active job may end, so it is asked again a little later (a client that
            // polls every 100 ms while it verifies an endpoint must not ask the controller ten times a second).
            if (finished.containsKey(jobId)) {
                return State.FINISHED;
            }
            Long until = activeUntil.get(jobId);
            if (until != null && System.nanoTime() - until < 0) {
                return State.ACTIVE;
            }
            State s = ask(jobId);
            if (s == State.FINISHED) {
                finished.put(jobId, s);
            } else if (s == State.ACTIVE) {
                activeUntil.put(jobId, System.nanoTime() + ACTIVE_FOR_NANOS);
            }
            return s;
        }

        private static State ask(String jobId) {
            String squeue = onPath("squeue");
            if (squeue != null) {
                Answer a = call(squeue, "-h", "-j", jobId, "-o", "%T");
                if (a != null) {
                    if (a.code == 0) {
                        String state = a.out.trim().split("\\s+")[0].toUpperCase(Locale.ROOT);
                        if (!state.isEmpty()) {
                            return classify(state);
                        }
                    } else if (a.out.contains("Invalid job id")) {
                        return State.FINISHED; // purged from the controller after MinJobAge: long finished
                    }
                }
            }
            String scontrol = onPath("scontrol");
            if (scontrol != null) {
                Answer a = call(scontrol, "show", "job", jobId);
                if (a != null) {
                    if (a.code == 0) {
                        int i = a.out.indexOf("JobState=");
                        if (i >= 0) {
                            return classify(
                                    a.out.substring(i + 9).split("\\s+")[0].toUpperCase(Locale.ROOT));
                        }
                    } else if (a.out.contains("Invalid job id")) {
                        return State.FINISHED;
                    }
                }
            }
            return State.UNKNOWN;
        }

        @Override
        public void warmUp() {
            Thread t = new Thread(
                    () -> {
                        String squeue = onPath("squeue");
                        if (squeue != null) {
                            call(squeue, "--version");
                        }
                    },
                    "muster-slurm-warm-up");
            t.setDaemon(true);
            t.start();
        }

        static State classify(String state) {
            // squeue may add a reason or a "+" suffix (CANCELLED+, "CANCELLED by 0")
            String s = state.replaceAll("[^A-Z_].*$", "");
            return ACTIVE_STATES.contains(s) ? State.ACTIVE : s.isEmpty() ? State.UNKNOWN : State.FINISHED;
        }

        private record Answer(int code, String out) {}

        private static Answer call(String... cmd) {
            if (Thread.currentThread().isInterrupted()) {
                // a caller being stopped gets no answer, whether or not the tool would finish before waitFor
                // looked at the interrupt (a tool that has already exited does not make waitFor throw)
                return null;
            }
            try {
                Process p = new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .start();
                // the answer is a line or a few: it fits the pipe, so waiting first cannot block the tool
                if (!p.waitFor(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    return null;
                }
                byte[] out;
                try (InputStream in = p.getInputStream()) {
                    out = in.readNBytes(64 * 1024);
                }
                return new Answer(p.exitValue(), new String(out, StandardCharsets.UTF_8));
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        private static String onPath(String tool) {
            String path = System.getenv("PATH");
            if (path == null) {
                return null;
            }
            for (String dir : path.split(":")) {
                if (!dir.isEmpty()) {
                    Path p = Path.of(dir, tool);
                    if (Files.isExecutable(p)) {
                        return p.toString();
                    }
                }
            }
            return null;
        }
    }
}
