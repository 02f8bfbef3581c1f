package dev.muster.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A separate process that swaps a FIFO and a regular file in turns under one name, each by an atomic rename, as
 * anyone who can write a shared directory can: the attack on a reader that checks the type and then opens.
 * python3 because Java cannot make a FIFO; CI installs it (scripts/test).
 */
public final class FifoSwapper implements AutoCloseable {
    private static final String SCRIPT = String.join(
            "\n",
            "import os, sys",
            "target, content = sys.argv[1], open(sys.argv[2], 'rb').read()",
            "d = os.path.dirname(target)",
            "i = 0",
            "while True:",
            "    f = os.path.join(d, '.swap-fifo-%d' % i)",
            "    os.mkfifo(f)",
            "    with open(os.path.join(d, '.swap-pad.tmp'), 'wb') as pad:", // the file stays in place about as long
            "        pad.write(content)", // as the FIFO
            "    os.rename(f, target)",
            "    g = os.path.join(d, '.swap-file-%d.tmp' % i)",
            "    with open(g, 'wb') as out:",
            "        out.write(content)",
            "    os.rename(g, target)",
            "    i += 1",
            "");

    private final Process process;

    private FifoSwapper(Process process) {
        this.process = process;
    }

    /** Starts swapping {@code target} between a FIFO and a file holding {@code content}. */
    public static FifoSwapper start(Path target, byte[] content) throws IOException {
        Path contentFile = Files.createTempFile("muster-swap-", ".content");
        Files.write(contentFile, content);
        contentFile.toFile().deleteOnExit();
        Process p = new ProcessBuilder("python3", "-c", SCRIPT, target.toString(), contentFile.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        Object before = key(target);
        // python takes a moment to start: the loop counts only once the swaps have begun
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> !p.isAlive() || !Objects.equals(before, key(target)));
        if (!p.isAlive()) {
            throw new IOException("the FIFO swapper (python3) exited at once with " + p.exitValue());
        }
        return new FifoSwapper(p);
    }

    private static Object key(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
