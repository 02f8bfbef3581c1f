package dev.muster.rendezvous;

import dev.muster.core.Backoff;
import dev.muster.core.Clock;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.task.JobStatus;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * A client waiting for several names at once, each with its own deadline: polls every pending name's
 * {@code latest.json}, skips records whose job Slurm reports finished, optionally checks that the endpoint answers,
 * and returns when every name is resolved or past its deadline.
 *
 * <p>Polling starts at 20 ms and grows by half to 50 ms for the first minute, then on to 250 ms: the aim is that a
 * client's program starts within a quarter of a second of its provider's port accepting connections. One poll is a
 * directory read and a small file read on one rank per client step, which a shared file system absorbs easily;
 * a client that waits longer (its provider still queued) polls less often.
 */
public final class ClientWait {
    public static final long FIRST_INTERVAL_NANOS = 20_000_000L;
    public static final long FAST_MAX_INTERVAL_NANOS = 50_000_000L;
    public static final long FAST_PERIOD_NANOS = 60_000_000_000L;
    public static final long MAX_INTERVAL_NANOS = 250_000_000L;
    private static final long PROGRESS_NANOS = 10_000_000_000L;

    /** Checks that a record's endpoint answers; null when it does, else why not. */
    public interface Verifier {
        String check(Record r, Duration timeout);
    }

    /** One name to wait for. */
    public record Request(String name, boolean required, Duration timeout) {}

    /**
     * @param resolved records of the names that resolved, in the order of the requests
     * @param missing  names that did not resolve before their deadline, in request order, with the reason
     */
    public record Result(List<Record> resolved, Map<Request, String> missing) {
        public boolean complete() {
            return missing.keySet().stream().noneMatch(Request::required);
        }
    }

    private final Store store;
    private final Clock clock;
    private final JobStatus jobs;
    private final Verifier verifier;
    private final Random random;

    /** @param verifier null to hand out records without checking their endpoints */
    public ClientWait(Store store, Clock clock, JobStatus jobs, Verifier verifier, Random random) {
        this.store = store;
        this.clock = clock;
        this.jobs = jobs;
        this.verifier = verifier;
        this.random = random;
    }

    /**
     * Waits for every request at once.
     *
     * @throws MusterException (corrupt, unusable directory) when a record or the cache cannot be read: waiting
     *         longer would not help
     */
    public Result await(List<Request> requests) {
        ClientEnv.refuseTokenCollisions(requests.stream().map(Request::name).toList());
        long start = clock.nanoTime();
        Map<Request, Record> found = new LinkedHashMap<>();
        Map<Request, String> missing = new LinkedHashMap<>();
        Map<Request, String> why = new LinkedHashMap<>();
        List<Request> pending = new ArrayList<>(requests);
        Backoff backoff = new Backoff(FIRST_INTERVAL_NANOS, FAST_MAX_INTERVAL_NANOS, 1.5, 1, 1.2, random);
        long nextProgress = start + PROGRESS_NANOS;
        boolean announced = false;
        while (true) {
            for (Request r : new ArrayList<>(pending)) {
                String problem = attempt(r, found, start);
                if (problem == null) {
                    pending.remove(r);
                } else {
                    why.put(r, problem);
                }
            }
            long now = clock.nanoTime();
            for (Request r : new ArrayList<>(pending)) {
                if (now - start >= r.timeout().toNanos()) {
                    pending.remove(r);
                    missing.put(r, why.get(r));
                }
            }
            if (pending.isEmpty()) {
                break;
            }
            if (!announced) {
                jobs.warmUp();
                Log.info("waiting for rendezvous " + describe(pending) + " under "
                        + store.cache().rendezvousDir());
                announced = true;
            } else if (now >= nextProgress) {
                Log.info("still waiting for rendezvous " + describe(pending) + " (" + (now - start) / 1_000_000_000L
                        + "s)");
                nextProgress = now + PROGRESS_NANOS;
            }
            pause(pending, backoff, start, now);
            backoff.limit(clock.nanoTime() - start < FAST_PERIOD_NANOS ? FAST_MAX_INTERVAL_NANOS : MAX_INTERVAL_NANOS);
        }
        List<Record> resolved = new ArrayList<>();
        for (Request r : requests) {
            if (found.containsKey(r)) {
                resolved.add(found.get(r));
            }
        }
        return new Result(resolved, missing);
    }

    /** Sleeps until the next look, never past the nearest deadline of {@code pending}. */
    private void pause(List<Request> pending, Backoff backoff, long start, long now) {
        long untilDeadline = Long.MAX_VALUE;
        for (Request r : pending) {
            untilDeadline = Math.min(untilDeadline, start + r.timeout().toNanos() - now);
        }
        // jitter, so that many clients started together do not poll the file server in lock-step
        long pause = backoff.next();
        try {
            clock.sleep(Math.max(0, Math.min(pause, untilDeadline)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MusterException(130, "interrupted while waiting for rendezvous " + describe(pending));
        }
    }

    /** One look at one name; null when it resolved (and is now in {@code found}), else why not yet. */
    private String attempt(Request req, Map<Request, Record> found, long start) {
        revalidate(req.name());
        Optional<Record> live = store.resolve(req.name());
        if (live.isEmpty()) {
            return "no live record";
        }
        Record r = live.get();
        if (jobs.state(r.jobId()) == JobStatus.State.FINISHED) {
            return "its record (" + r.url() + ") belongs to job " + r.jobId() + ", which Slurm reports finished";
        }
        if (verifier != null) {
            long left = start + req.timeout().toNanos() - clock.nanoTime();
            String problem = verifier.check(r, Duration.ofNanos(Math.max(50_000_000L, Math.min(left, 1_000_000_000L))));
            if (problem != null) {
                return "the endpoint does not answer yet (" + problem + ")";
            }
        }
        found.put(req, r);
        Log.debug("rendezvous " + req.name() + " resolved: " + r.url() + " (job " + r.jobId() + ")");
        return null;
    }

    /**
     * Opens the name's directory before a read, so that a client's cached "no such file" does not hide a record
     * that appeared (why: docs/barrier.md#shared-file-systems-and-client-caches).
     */
    private void revalidate(String name) {
        Path dir = store.nameDir(name);
        Path probe = Files.isDirectory(dir) ? dir : store.cache().rendezvousDir();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(probe)) {
            ds.iterator().hasNext();
        } catch (IOException | RuntimeException e) {
            // not there yet: resolve says so
        }
    }

    private static String describe(List<Request> rs) {
        StringBuilder b = new StringBuilder();
        for (Request r : rs) {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(r.name()).append(r.required() ? "" : " (optional)");
        }
        return b.toString();
    }
}
