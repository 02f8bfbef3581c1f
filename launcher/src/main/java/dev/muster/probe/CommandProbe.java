package dev.muster.probe;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Ready when {@code /bin/sh -c COMMAND} exits 0. Its output is discarded: stdout belongs to the task's program,
 * and a probe retried every half second would flood stderr. A run that overstays its attempt is killed with its
 * children.
 */
public record CommandProbe(String spec, String command) implements Probe {
    @Override
    public String attempt(Duration timeout) {
        Process p;
        try {
            p = new ProcessBuilder("/bin/sh", "-c", command)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return "cannot start /bin/sh: " + e.getMessage();
        }
        try {
            if (!p.waitFor(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                return "'" + command + "' still running after " + timeout.toMillis() + " ms";
            }
            int code = p.exitValue();
            return code == 0 ? null : "'" + command + "' exited with " + code;
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
