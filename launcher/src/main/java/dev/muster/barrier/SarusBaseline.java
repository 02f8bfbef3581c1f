package dev.muster.barrier;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Sarus "Slurm global sync" hook's way of waiting (seeds/004), kept only as the benchmark baseline
 * ({@code --baseline-sarus}, not documented for users): every task creates {@code arrival/<rank>}, lists
 * {@code arrival/} every 100 ms until it holds N files, creates {@code departure/<rank>}; rank 0 then lists
 * {@code departure/} every 100 ms until it holds N files and removes the directory before it goes on. It lives
 * inside muster so that the benchmark compares waiting protocols with the same JVM, start-up and exec path.
 */
final class SarusBaseline {
    private static final long PERIOD_MILLIS = 100;

    private final Path dir;
    private final int rank;
    private final int size;
    private final long deadlineNanos;

    SarusBaseline(Path stepDir, int rank, int size, java.time.Duration timeout) {
        this.dir = stepDir.resolve("sarus");
        this.rank = rank;
        this.size = size;
        this.deadlineNanos = System.nanoTime() + timeout.toNanos();
    }

    Outcome await(Map<String, String> releaseData) throws InterruptedException {
        Path arrival = dir.resolve("arrival");
        Path departure = dir.resolve("departure");
        try {
            Files.createDirectories(arrival);
            Files.createDirectories(departure);
            Files.createFile(arrival.resolve(Integer.toString(rank)));
        } catch (IOException e) {
            throw MusterException.unusableDir("baseline: cannot write in " + dir + ": " + e);
        }
        waitFor(arrival);
        try {
            Files.createFile(departure.resolve(Integer.toString(rank)));
        } catch (IOException e) {
            throw MusterException.unusableDir("baseline: cannot write in " + dir + ": " + e);
        }
        if (rank == 0) {
            waitFor(departure);
            Path gone = dir.resolveSibling("sarus.gone." + dev.muster.core.Posix.pid());
            try {
                Files.move(dir, gone);
                try (Stream<Path> s = Files.walk(gone)) {
                    for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                        Files.deleteIfExists(p);
                    }
                }
            } catch (IOException e) {
                // the hook ignores clean-up failures too; sweep removes the rest
            }
        }
        return Outcome.release(0, rank == 0 ? releaseData : Map.of());
    }

    private void waitFor(Path d) throws InterruptedException {
        while (count(d) < size) {
            if (System.nanoTime() > deadlineNanos) {
                throw new MusterException(ExitCodes.TIMEOUT, "baseline barrier timed out in " + d);
            }
            Thread.sleep(PERIOD_MILLIS);
        }
    }

    private static int count(Path d) {
        int n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) {
                if (FileBarrier.parseRank(p.getFileName().toString()) >= 0) {
                    n++;
                }
            }
        } catch (IOException e) {
            return n;
        }
        return n;
    }
}
