package dev.muster.service;

import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One {@code --start} command, running in the background for as long as the task does, and not longer.
 *
 * <p>It is started through a small supervisor shell, detached from muster ({@code sh -c '... &'}): the program that
 * muster execs must not inherit it as a child (a script's bare {@code wait} would wait for it, and its SIGCHLD would
 * reach a program that never started it). The supervisor runs the command in a session of its own
 * ({@code setsid}), records its PID and, when it ends, its exit status in a private state directory, and keeps a
 * watcher loop that polls the task's PID (with the start time muster saw, against PID reuse) every 200 ms. When
 * the task is gone, or muster asks for it ({@link #requestStop}), the watcher sends SIGTERM to the service's
 * process group and to every process whose environment carries the service's marker ({@code MUSTER_SERVICE_ID}:
 * this reaches a daemon that forked and called setsid itself), waits up to the grace period, sends SIGKILL to
 * what is left, and removes the state directory.
 *
 * <p>Why not leave it to Slurm: proctrack/linuxproc finds a task's processes by their parent PIDs, so anything
 * whose parent has exited (a daemonizing sshd, or the service once muster has exec'd) escapes it; and a process
 * that keeps the task's stdout or stderr open holds up srun.
 */
public final class Service {
    /** Between SIGTERM and SIGKILL. */
    public static final Duration GRACE = Duration.ofSeconds(5);

    /**
     * The supervisor, run by {@code /bin/sh} from the state directory (dash reads a script as it goes, and the
     * file stays readable after the watcher removes the directory). Arguments: setsid (or empty when there is none), command, state directory, task PID, task
     * start time (clock ticks, field 22 of /proc/PID/stat), grace seconds, marker, log prefix.
     */
    static final String SUPERVISOR = """
            setsid=$1 cmd=$2 dir=$3 task=$4 start=$5 grace=$6 marker=$7 prefix=$8

            # One look at the task: 0 alive, 1 gone (no such PID, or a reused one: another start time), 2 a zombie.
            look() {
              { read -r s < "/proc/$task/stat"; } 2>/dev/null || return 1
              s=${s##*") "}
              # shellcheck disable=SC2086
              set -- $s
              [ "${20}" = "$start" ] || return 1
              case $1 in Z | X) return 2 ;; esac
              return 0
            }

            # A zombie is a program that exited and waits to be reaped, or, for a moment, a JVM that execs from a
            # thread other than its first: the kernel then ends the first thread (a zombie leader) and hands the
            # PID to the exec'ing thread. So a zombie counts as gone only when it stays one for a second.
            alive() {
              looks=0
              while :; do
                look
                case $? in 0) return 0 ;; 1) return 1 ;; esac
                looks=$((looks + 1))
                [ "$looks" -ge 20 ] && return 1
                sleep 0.05
              done
            }

            # Every process that carries the marker in its environment: the service and whatever it started,
            # daemonized or in a session of its own, unless it cleared its environment.
            marked() {
              for f in $(grep -lzx "MUSTER_SERVICE_ID=$marker" /proc/[0-9]*/environ 2>/dev/null); do
                f=${f#/proc/}
                echo "${f%/environ}"
              done
            }

            signal_all() {
              if [ -n "$setsid" ]; then
                kill -s "$1" -- "-$svc" 2>/dev/null
              fi
              for p in $(marked); do
                kill -s "$1" "$p" 2>/dev/null
              done
            }

            stop_all() {
              signal_all TERM
              n=0
              while [ -n "$(marked)" ]; do
                if [ "$n" -ge $((grace * 10)) ]; then
                  echo "${prefix}warning: --start '$cmd' still running ${grace}s after SIGTERM; sending SIGKILL" >&2
                  signal_all KILL
                  break
                fi
                sleep 0.1
                n=$((n + 1))
              done
            }

            MUSTER_SERVICE_ID=$marker $setsid /bin/sh -c "$cmd" </dev/null &
            svc=$!
            { echo "$svc" > "$dir/pid.tmp" && mv -f "$dir/pid.tmp" "$dir/pid"; } 2>/dev/null
            (
              # Only the watcher ignores INT and HUP (without setsid a terminal's signals for the task's process
              # group reach it): ignored signals would be inherited by the service.
              trap '' INT HUP
              trap 'stop_all; rm -rf "$dir"; exit 0' TERM
              while alive && [ ! -e "$dir/stop" ]; do
                sleep 0.2
              done
              stop_all
              rm -rf "$dir"
            ) &
            # (quietly: dash reports a child killed by a signal, and the watcher's SIGTERM is no news)
            wait "$svc" 2>/dev/null
            code=$?
            { echo "$code" > "$dir/status.tmp" && mv -f "$dir/status.tmp" "$dir/status"; } 2>/dev/null
            """;

    private final String command;
    private final Path dir;
    private final long pid;
    private final Clock clock;

    private Service(String command, Path dir, long pid, Clock clock) {
        this.command = command;
        this.dir = dir;
        this.pid = pid;
        this.clock = clock;
    }

    /**
     * Starts {@code command} under {@code /bin/sh -c} with {@code env} as its environment (plus its marker), its
     * stdin /dev/null and the task's stdout and stderr, supervised for the life of process {@code taskPid}.
     *
     * @param logPrefix the {@code muster[<rank>] } prefix of the supervisor's own lines
     */
    public static Service start(
            String command, Map<String, String> env, long taskPid, Duration grace, String logPrefix, Clock clock) {
        Path dir = stateDir(command);
        String setsid = setsid(env);
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "\"$@\" &", "sh"));
        if (setsid != null) {
            // the supervisor in a session of its own too: signals for the task's process group are not for it
            cmd.add(setsid);
        }
        Path script = dir.resolve("supervise");
        try {
            // a file rather than sh -c TEXT: ps then shows /bin/sh /tmp/muster-service-.../supervise and the command
            Files.writeString(script, SUPERVISOR, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new MusterException(
                    ExitCodes.INTERNAL,
                    "cannot write " + script + " for --start '" + command + "': " + e.getMessage()
                            + "; set TMPDIR to a writable directory");
        }
        cmd.addAll(List.of(
                "/bin/sh",
                script.toString(),
                setsid == null ? "" : setsid,
                command,
                dir.toString(),
                Long.toString(taskPid),
                startTicks(taskPid),
                Long.toString(Math.max(1, grace.toSeconds())),
                dir.getFileName() + "-" + taskPid,
                logPrefix));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            int code = pb.start().waitFor();
            if (code != 0) {
                throw new MusterException(
                        ExitCodes.INTERNAL,
                        "cannot start --start '" + command + "' (sh exited " + code
                                + "); please report it with the output of --verbose");
            }
        } catch (IOException e) {
            throw new MusterException(
                    ExitCodes.INTERNAL,
                    "cannot start --start '" + command + "': " + e.getMessage() + "; check that /bin/sh is there",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new Service(command, dir, readPid(command, dir, clock), clock);
    }

    /** A private (0700) directory on this node: the state of one service of one task. */
    private static Path stateDir(String command) {
        try {
            return Files.createTempDirectory("muster-service-");
        } catch (IOException e) {
            throw new MusterException(
                    ExitCodes.INTERNAL,
                    "cannot create a state directory for --start '" + command
                            + "' under " + System.getProperty("java.io.tmpdir") + ": " + e.getMessage()
                            + "; set TMPDIR to a writable directory");
        }
    }

    /** The supervisor writes the PID at once; a loaded node may take a moment to schedule it. */
    private static long readPid(String command, Path dir, Clock clock) {
        long deadline = clock.nanoTime() + Duration.ofSeconds(30).toNanos();
        Path file = dir.resolve("pid");
        while (true) {
            try {
                return Long.parseLong(
                        Files.readString(file, StandardCharsets.US_ASCII).trim());
            } catch (IOException | NumberFormatException e) {
                if (clock.nanoTime() > deadline) {
                    throw new MusterException(
                            ExitCodes.INTERNAL,
                            "--start '" + command + "': its supervisor did " + "not report within 30 s (" + file
                                    + "); please report it with the output of --verbose");
                }
            }
            try {
                clock.sleep(2_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MusterException(ExitCodes.INTERNAL, "interrupted while starting --start '" + command + "'");
            }
        }
    }

    private static String setsid(Map<String, String> env) {
        String path = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String d : (path + ":/usr/bin:/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "setsid"))) {
                return Path.of(d, "setsid").toString();
            }
        }
        return null;
    }

    /** Field 22 of /proc/PID/stat: the process's start time, which a reused PID does not share. */
    static String startTicks(long pid) {
        return dev.muster.core.Processes.startTicks(pid)
                .orElseThrow(() -> new MusterException(
                        ExitCodes.INTERNAL, "cannot read the start time of process " + pid + "; --start needs /proc"));
    }

    public String command() {
        return command;
    }

    /** The PID of {@code /bin/sh -c command}: also its process group and session when setsid was there. */
    public long pid() {
        return pid;
    }

    /** The exit status of the command's first process, or -1 while it runs (a daemon's first process exits 0). */
    public int exitCode() {
        try {
            return Integer.parseInt(Files.readString(dir.resolve("status"), StandardCharsets.US_ASCII)
                    .trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** Asks the supervisor to stop the service now (it does within 200 ms) rather than when the task ends. */
    public void requestStop() {
        try {
            Files.createFile(dir.resolve("stop"));
        } catch (IOException e) {
            // already asked, or already stopped
        }
    }

    /** Waits until the supervisor has stopped the service: true when it has within {@code timeout}. */
    public boolean awaitStopped(Duration timeout) {
        long deadline = clock.nanoTime() + timeout.toNanos();
        while (Files.exists(dir)) {
            if (clock.nanoTime() > deadline) {
                return false;
            }
            try {
                clock.sleep(20_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !Files.exists(dir);
            }
        }
        return true;
    }
}
