package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.muster.core.Clock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node file of the roster's per-node fan-out ({@link RosterRelay}) written by several tasks at once: a node
 * leader and the tasks that gave up waiting for it, which read the step's roster and write the node file
 * themselves. Tasks that share a PID write it at once too: threads as ranks here, tasks in containers of their
 * own (each its own PID namespace) on a real node. Nobody may read a torn file.
 */
class NodeRosterFileTest {
    @TempDir
    Path root;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void nodeFile_writtenByManyTasksOfOnePidAtOnce_isNeverReadTorn() throws Exception {
        byte[] json = new byte[4 << 20];
        for (int i = 0; i < json.length; i++) {
            json[i] = (byte) ('a' + i % 26);
        }
        for (int round = 0; round < 8; round++) {
            Path nodeDir = root.resolve("node-" + round);
            String prefix = RosterRelay.prefix(root.resolve("step"), "node7");
            CountDownLatch go = new CountDownLatch(1);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(17);
            List<CompletableFuture<Path>> writers = new ArrayList<>();
            for (int w = 0; w < 16; w++) {
                writers.add(CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                go.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            return RosterRelay.write(nodeDir, prefix, json);
                        },
                        pool));
            }
            CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            go.await();
                            return RosterRelay.read(nodeDir, prefix, json.length, Clock.SYSTEM);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return null;
                        }
                    },
                    pool);
            go.countDown();
            pool.shutdown();
            for (CompletableFuture<Path> w : writers) {
                assertNotNull(w.get(30, TimeUnit.SECONDS), "round " + round + ": a writer failed");
            }
            byte[] read = reader.get(30, TimeUnit.SECONDS);
            assertNotNull(read, "round " + round + ": the node file was found");
            assertArrayEquals(json, read, "round " + round + ": the reader got the roster as written");
            try (var files = Files.list(nodeDir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    assertArrayEquals(json, Files.readAllBytes(p), "round " + round + ": " + p.getFileName());
                }
            }
        }
    }
}
