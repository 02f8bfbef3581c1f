package dev.muster.rendezvous;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rendezvous records under one cache directory: {@code <cache>/rendezvous/<name>/latest.json} plus one
 * history file per job and service (DESIGN §5; hpc-compose reads and writes the same files).
 */
public final class Store {
    public static final String LATEST = "latest.json";

    private final CacheDir cache;
    private final Clock clock;
    private final RecordKey key;

    public Store(CacheDir cache, Clock clock) {
        this(cache, clock, null);
    }

    /** @param key null: records are written and read unsigned, as hpc-compose does */
    public Store(CacheDir cache, Clock clock, RecordKey key) {
        this.cache = cache;
        this.clock = clock;
        this.key = key;
    }

    /** The same directory, with records signed and checked with {@code key} (null: none). */
    public Store withKey(RecordKey key) {
        return new Store(cache, clock, key);
    }

    public CacheDir cache() {
        return cache;
    }

    /** Wall-clock seconds: records carry Unix seconds. */
    public long nowSeconds() {
        return Math.floorDiv(clock.millis(), 1000L);
    }

    /** The directory of a name, for messages: built from the cache directory as the user gave it. */
    public Path nameDir(String name) {
        return cache.rendezvousDir().resolve(name);
    }

    /** What {@link #register} wrote: the record and the history file (the path register reports). */
    public record Registration(Record record, Path historyFile) {}

    /**
     * Registers a provider: validates everything before touching the disk (invalid input creates nothing, not
     * even {@code rendezvous/}), then writes the history file and then {@code latest.json}, each atomically.
     * The record's {@code registered_at} is now and its {@code cache_dir} the directory as the user gave it.
     */
    public Registration register(
            String name,
            String jobId,
            String service,
            String host,
            int port,
            String protocol,
            String path,
            long ttlSeconds,
            Map<String, String> metadata) {
        Record r = Record.create(
                name, jobId, service, host, port, protocol, path, nowSeconds(), ttlSeconds, cache.given(), metadata);
        Path dir = nameDir(r.name());
        Path history = dir.resolve(historyFileName(r));
        Path latest = dir.resolve(LATEST);
        cache.create(cache.rendezvousDir(), dir);
        RecordFiles.refuseNonRegularTarget(history);
        RecordFiles.refuseNonRegularTarget(latest);
        byte[] bytes = (key == null ? r.toJson() : r.toJson(key.sign(r))).getBytes(StandardCharsets.UTF_8);
        RecordFiles.writeAtomically(history, bytes);
        RecordFiles.writeAtomically(latest, bytes);
        return new Registration(r, history);
    }

    static String historyFileName(Record r) {
        return Names.fileToken(r.jobId()) + "-" + Names.fileToken(r.hasService() ? r.service() : "manual") + ".json";
    }

    /**
     * The live record of {@code name} from {@code latest.json} only (never history): empty when there is none,
     * it has expired, or it belongs to another cache directory.
     *
     * @throws MusterException (corrupt) when latest.json is damaged, a link, not a file or oversized; (unusable
     *         directory) when the cache is not trusted; (usage) for an invalid name
     */
    public Optional<Record> resolve(String name) {
        Names.validate(name);
        return latest(name).filter(r -> cache.sameAs(r.cacheDir()) && r.isLive(nowSeconds()));
    }

    /** The record in {@code latest.json} as it is, live or not, after the directory checks. */
    public Optional<Record> latest(String name) {
        Names.validate(name);
        if (!cache.checkIfPresent() || !cache.checkSubIfPresent(cache.rendezvousDir())) {
            return Optional.empty();
        }
        Path dir = nameDir(name);
        if (!cache.checkSubIfPresent(dir)) {
            return Optional.empty();
        }
        Path file = dir.resolve(LATEST);
        return readChecked(file, name);
    }

    /** A record as read from {@code file}, checked: its own name, and with a key its signature. */
    private Optional<Record> readChecked(Path file, String dirName) {
        return RecordFiles.readSigned(file, clock)
                .map(s -> key == null ? s.record() : key.verify(s, file))
                .map(r -> ownName(r, dirName, file));
    }

    /**
     * A record speaks only for the name whose directory holds it: whoever can write {@code x/} could otherwise
     * put {@code "name": "y"} there and have clients of {@code x} export an endpoint as {@code y}'s.
     */
    private static Record ownName(Record r, String dirName, Path file) {
        if (!r.name().equals(dirName)) {
            throw MusterException.corrupt("rendezvous record " + file + " names " + SafeText.quote(r.name())
                    + ", not the name of its directory " + SafeText.quote(dirName) + "; remove it or register again");
        }
        return r;
    }

    /** Live records of this cache directory, sorted by name; a damaged latest.json fails the whole list. */
    public List<Record> list() {
        List<Record> out = new ArrayList<>();
        for (Path dir : nameDirs()) {
            Path file = dir.resolve(LATEST);
            readChecked(file, dir.getFileName().toString())
                    .filter(r -> cache.sameAs(r.cacheDir()) && r.isLive(nowSeconds()))
                    .ifPresent(out::add);
        }
        out.sort(Comparator.comparing(Record::name));
        return out;
    }

    /**
     * Removes expired {@code latest.json} and history files of this cache directory. Each file is claimed
     * (renamed to a private name) and read again before it is deleted, so a record renewed at the last moment is
     * put back rather than lost. Unreadable files are skipped; directories are left.
     *
     * @return the removed files, as paths under the cache directory as the user gave it
     */
    public List<Path> prune() {
        List<Path> removed = new ArrayList<>();
        for (Path dir : nameDirs()) {
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.json")) {
                for (Path f : ds) {
                    if (!f.getFileName().toString().startsWith(".")) {
                        files.add(f);
                    }
                }
            } catch (IOException e) {
                continue; // unreadable: skipped, as hpc-compose does
            }
            files.sort(Comparator.naturalOrder());
            for (Path f : files) {
                if (expiredHere(f)) {
                    Optional<Path> claimed = RecordFiles.claim(f);
                    if (claimed.isEmpty()) {
                        continue;
                    }
                    if (expiredHere(claimed.get())) {
                        RecordFiles.deleteQuietly(claimed.get());
                        removed.add(f);
                    } else {
                        RecordFiles.restore(claimed.get(), f);
                    }
                }
            }
        }
        removed.sort(Comparator.naturalOrder());
        return removed;
    }

    private boolean expiredHere(Path f) {
        try {
            Optional<Record> r = RecordFiles.read(f, clock);
            return r.isPresent() && cache.sameAs(r.get().cacheDir()) && !r.get().isLive(nowSeconds());
        } catch (MusterException e) {
            return false;
        }
    }

    /** How a deregistration ended. */
    public enum Deregistration {
        /** latest.json was this job's and is gone. */
        REMOVED,
        /** latest.json belongs to another job (a newer provider); left in place. */
        NOT_OURS,
        /** there was no latest.json. */
        ABSENT
    }

    /**
     * Removes {@code latest.json} only while it is still {@code jobId}'s, so that a provider finishing late never
     * removes a newer provider's record. History files stay (prune removes them once expired).
     *
     * <p>Race: checking the job id on the shared name and then deleting the shared name would delete a record a
     * newer provider renamed in between. Instead the file is claimed (renamed to a private name) and the claimed
     * file is checked: that is exactly the file that will be deleted. If it is not ours after all, it goes back
     * under its name only if that name is still free; anything there now was renamed in after the claim, so it
     * is newer and wins. Readers may see no latest.json during that short window, which they treat as "not yet".
     */
    public Deregistration deregister(String name, String jobId) {
        Optional<Record> current = latest(name);
        if (current.isEmpty()) {
            return Deregistration.ABSENT;
        }
        if (!current.get().jobId().equals(jobId)) {
            return Deregistration.NOT_OURS;
        }
        Path latest = nameDir(name).resolve(LATEST);
        Optional<Path> claimed = RecordFiles.claim(latest);
        if (claimed.isEmpty()) {
            return Deregistration.ABSENT;
        }
        Optional<Record> mine;
        try {
            mine = RecordFiles.read(claimed.get(), clock);
        } catch (MusterException e) {
            RecordFiles.restore(claimed.get(), latest);
            throw e;
        }
        if (mine.isPresent() && mine.get().jobId().equals(jobId)) {
            RecordFiles.deleteQuietly(claimed.get());
            RecordFiles.syncDirectory(latest.getParent());
            return Deregistration.REMOVED;
        }
        RecordFiles.restore(claimed.get(), latest);
        return Deregistration.NOT_OURS;
    }

    /** The name directories under {@code rendezvous/}, checked; empty when there is no cache yet. */
    private List<Path> nameDirs() {
        List<Path> dirs = new ArrayList<>();
        if (!cache.checkIfPresent() || !cache.checkSubIfPresent(cache.rendezvousDir())) {
            return dirs;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(cache.rendezvousDir())) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(p)) {
                    continue; // temp files and stray plain files are not records
                }
                cache.checkSubIfPresent(p);
                dirs.add(p);
            }
        } catch (NoSuchFileException e) {
            return dirs;
        } catch (IOException e) {
            throw MusterException.unusableDir(
                    "cannot list " + cache.rendezvousDir() + " (" + CacheDir.reason(e) + "); check its permissions");
        }
        dirs.sort(Comparator.naturalOrder());
        return dirs;
    }
}
