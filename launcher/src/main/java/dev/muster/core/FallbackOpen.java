package dev.muster.core;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link SharedFiles}' open where Java cannot ask for {@code O_NONBLOCK} (Java 17-21, and the agent inside an
 * application): the open runs on a daemon helper thread, refused as soon as the name shows anything but a regular
 * file while it is pending, and after {@link #FALLBACK_OPEN_MILLIS} in any case; a descriptor that cannot seek
 * (FIFO, socket) is refused.
 */
final class FallbackOpen {
    /** How long a Java 17-21 reader waits for an open that a regular file finishes in microseconds, while the
     * name shows a regular file (a FIFO shown is refused at once). */
    static final long FALLBACK_OPEN_MILLIS = 30_000;

    private static final long FALLBACK_SLICE_MILLIS = 10;

    private static final ExecutorService OPENERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "muster-open");
        t.setDaemon(true);
        return t;
    });

    private FallbackOpen() {}

    static FileChannel open(Path file, boolean write, boolean create) throws IOException {
        return onHelper(file, () -> openChecked(file, write, create));
    }

    /** The Java 17-21 open, run on a helper thread: open, then refuse what cannot seek or is a directory. */
    static FileChannel openChecked(Path file, boolean write, boolean create) throws IOException {
        java.util.Set<java.nio.file.OpenOption> options = new java.util.HashSet<>();
        options.add(write ? StandardOpenOption.WRITE : StandardOpenOption.READ);
        options.add(LinkOption.NOFOLLOW_LINKS);
        if (create) {
            options.add(StandardOpenOption.CREATE);
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, options);
        } catch (IOException e) {
            // O_NOFOLLOW's ELOOP: a FileSystemException on JDK 17, a plain IOException on JDK 25 ("Too many levels
            // of symbolic links"), so the name is asked too
            if (e instanceof FileSystemException f
                            && String.valueOf(f.getReason()).contains("link")
                    || String.valueOf(e.getMessage()).contains("symbolic link")
                    || Files.isSymbolicLink(file)) {
                throw new SharedFiles.NotRegularFile(file, SharedFiles.SYMLINK);
            }
            throw e;
        }
        try {
            ch.position(); // a FIFO or a socket cannot seek: lseek(2) fails with ESPIPE
            ch.size();
        } catch (IOException e) {
            closeQuietly(ch);
            throw new SharedFiles.NotRegularFile(file, "a FIFO or socket");
        }
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            a = null; // swapped away after the open: what is open is what counts, and it can seek
        }
        if (a != null && a.isDirectory()) {
            closeQuietly(ch);
            throw new SharedFiles.NotRegularFile(file, "a directory");
        }
        return ch;
    }

    /** Something done with a file that may block in open(2). */
    interface FileWork<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code work} on a helper thread and waits for it in slices. An open that is still pending while the
     * name holds something other than a regular file is refused at once; one pending while it holds a regular
     * file waits for up to {@link #FALLBACK_OPEN_MILLIS} (a slow file server) counted from when the helper began
     * the open, and is then refused all the same: what it is stuck on was swapped away. A helper that has not
     * begun yet, or that the kernel shows runnable rather than asleep, is starved of CPU, not stuck in an open:
     * it is waited for (seen on a machine with thousands of runnable threads, where a helper began seconds late
     * and a regular file was taken for a FIFO).
     */
    static <T> T onHelper(Path file, FileWork<T> work) throws IOException {
        Helper helper = new Helper();
        CompletableFuture<T> pending = CompletableFuture.supplyAsync(
                () -> {
                    helper.begin();
                    try {
                        return work.run();
                    } catch (IOException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                },
                OPENERS);
        try {
            while (true) {
                try {
                    return pending.get(FALLBACK_SLICE_MILLIS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    BasicFileAttributes now = null;
                    try {
                        now = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    } catch (IOException gone) {
                        // swapped away: keep waiting for what was opened
                    }
                    if (now != null && !now.isRegularFile() || helper.stuckPast(FALLBACK_OPEN_MILLIS)) {
                        // should the work ever finish (a writer came), close what it opened: nobody waits now
                        pending.thenAccept(FallbackOpen::closeQuietly);
                        throw new SharedFiles.NotRegularFile(
                                file,
                                now != null && now.isOther()
                                        ? "a FIFO"
                                        : "something that did not open within " + FALLBACK_OPEN_MILLIS / 1000 + " s");
                    }
                }
            }
        } catch (InterruptedException e) {
            pending.thenAccept(FallbackOpen::closeQuietly);
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while opening " + file);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }

    static void closeQuietly(Object o) {
        if (o instanceof FileChannel ch) {
            try {
                ch.close();
            } catch (IOException e) {
                // read-only: nothing was lost
            }
        }
    }

    /** When the helper thread began its open, and which kernel thread it is, to tell stuck from starved. */
    static final class Helper {
        /**
         * The helper's kernel thread id, read once per pool thread (they are reused): /proc/thread-self names
         * "<pid>/task/<tid>"; null without /proc, where the time alone decides.
         */
        private static final ThreadLocal<String> OWN_TID = new ThreadLocal<>() {
            // a class, not a lambda: this is the agent's path, where each lambda costs a cold JVM a millisecond
            @Override
            protected String initialValue() {
                try {
                    return Files.readSymbolicLink(Path.of("/proc/thread-self"))
                            .getFileName()
                            .toString();
                } catch (IOException | UnsupportedOperationException e) {
                    return null;
                }
            }
        };

        private volatile long began;
        private volatile boolean started;
        private volatile String tid;

        void begin() {
            tid = OWN_TID.get();
            began = System.nanoTime();
            started = true;
        }

        String tidForTest() {
            return started ? tid : null;
        }

        /** Whether the helper began more than {@code millis} ago and is not runnable now (asleep in its open). */
        boolean stuckPast(long millis) {
            if (!started || System.nanoTime() - began < TimeUnit.MILLISECONDS.toNanos(millis)) {
                return false;
            }
            String t = tid;
            if (t == null) {
                return true;
            }
            try {
                String stat = Files.readString(Path.of("/proc/self/task", t, "stat"));
                // the state follows the command name's closing parenthesis: R runnable, S or D asleep
                int close = stat.lastIndexOf(')');
                return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'R';
            } catch (IOException e) {
                return true; // the helper ended meanwhile: the next slice collects its result
            }
        }
    }
}
