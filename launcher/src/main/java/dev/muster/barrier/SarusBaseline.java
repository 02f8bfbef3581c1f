package dev.muster.barrier;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import java.io.IOException;
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
 * inside muster so that the benchmark compares waiting protocols with the same JVM, start-up and exec path; it
 * uses the step directory of the file protocol for its own directory, arrival record and aborts.
 */
final class SarusBaseline implements Barrier {
    private static final long PERIOD_MILLIS = 100;

    private final FileBarrier fb;
    private final Path dir;
    private final int rank;
    private final int size;
    private final java.time.Duration timeout;
    private long deadlineNanos;

    SarusBaseline(FileBarrier fb) {
        this.fb = fb;
        this.dir = fb.dir().resolve(StepFiles.SARUS);
        this.rank = fb.rank();
        this.size = fb.size();
        this.timeout = fb.settings().timeout();
    }

    @Override
    public void prepare() {
        fb.prepare();
    }

    @Override
    public void arrive() {
        fb.arrive();
    }

    @Override
    public Outcome await(Map<String, String> releaseData) throws InterruptedException {
        fb.via("sarus");
        deadlineNanos = System.nanoTime() + timeout.toNanos();
        Path arrival = dir.resolve(StepFiles.ARRIVAL);
        Path departure = dir.resolve(StepFiles.DEPARTURE);
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
            remove();
        }
        return fb.finish(Outcome.release(0, rank == 0 ? releaseData : Map.of()));
    }

    private void remove() {
        Path gone = StepFiles.gone(dir, Posix.pid());
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

    @Override
    public void abort(int code, String reason) {
        fb.abort(code, reason);
    }

    /** The hook leaves no departure for muster's clean-up. */
    @Override
    public void depart() {}

    /** Rank 0 removes the baseline's directory itself, before it goes on. */
    @Override
    public boolean cleanedUp() {
        return false;
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
        try {
            return StepFiles.countRanks(d);
        } catch (IOException e) {
            return 0;
        }
    }
}
