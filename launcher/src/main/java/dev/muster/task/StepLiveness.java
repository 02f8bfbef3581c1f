package dev.muster.task;

import dev.muster.core.Processes;
import java.util.regex.Pattern;

/**
 * Whether the step a barrier key names may still run, for the clean-up of step directories. Keys are
 * {@code <cluster>.<job>.<step>...} or {@code local.<pid>-<id>}; a Slurm job counts as gone only when
 * {@link JobStatus} says it finished (the one rule for "finished"), a {@code muster local} run when its launching
 * process is gone (the key's PID, and its start time where the key carries it: PIDs are reused). When nobody can tell, the step counts as live (the age limit still applies).
 */
public final class StepLiveness {
    /** {@code <pid>-<hex>}, and since the launcher records it, {@code -<its start time in clock ticks>} */
    private static final Pattern LOCAL_JOB = Pattern.compile("([0-9]+)-[0-9a-f]+(?:-([0-9]+))?");

    private static final Pattern SLURM_JOB = Pattern.compile("[0-9]+(_[0-9]+)?");

    private final JobStatus jobs;

    public StepLiveness(JobStatus jobs) {
        this.jobs = jobs;
    }

    public boolean mayRun(String key) {
        String[] parts = key.split("\\.");
        // muster local keys are local.<pid>-<hex>; a Slurm cluster may be called "local" too, but its job ids
        // never have that shape
        java.util.regex.Matcher local =
                parts.length >= 2 && parts[0].equals("local") ? LOCAL_JOB.matcher(parts[1]) : null;
        if (local != null && local.matches()) {
            try {
                long pid = Long.parseLong(local.group(1));
                // with the start time, a PID reused by a later process no longer keeps a finished step's directory
                return local.group(2) == null ? Processes.alive(pid) : Processes.alive(pid, local.group(2));
            } catch (NumberFormatException e) {
                return false;
            }
        }
        if (parts.length < 2 || !SLURM_JOB.matcher(parts[1]).matches()) {
            return true;
        }
        return jobs.state(parts[1]) != JobStatus.State.FINISHED;
    }
}
