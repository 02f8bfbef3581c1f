package dev.muster.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.json.JsonException;
import dev.muster.rendezvous.Conformance;
import dev.muster.rendezvous.Names;
import dev.muster.rendezvous.Record;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Properties of the record format and the name rules over seeded random inputs (seed in every message). */
class RecordPropertyTest {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

    static Record randomRecord(Random r) {
        Map<String, String> md = new TreeMap<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            md.put(Gen.string(r, 12), Gen.string(r, 20));
        }
        // metadata and cache_dir take anything; the fields clients print and export take no control characters
        String path = r.nextBoolean() ? null : "/" + Gen.printable(r, 15);
        String jobId = Gen.printable(r, 10);
        String host = Gen.printable(r, 15);
        String protocol = Gen.printable(r, 6);
        return Record.create(
                Gen.name(r),
                jobId.isBlank() ? "1" : jobId,
                r.nextBoolean() ? null : Gen.printable(r, 8),
                host.isBlank() ? "h" : host,
                1 + r.nextInt(65535),
                protocol.isBlank() ? "tcp" : protocol,
                path,
                r.nextLong() & Long.MAX_VALUE,
                1 + (r.nextLong() & 0xffffffffL),
                Gen.string(r, 20),
                md);
    }

    @Test
    void record_writeThenRead_isTheSameRecord_andTheLineLayoutHolds() {
        long seed = Gen.seed();
        Random r = new Random(seed);
        for (int i = 0; i < 2_000; i++) {
            Record rec = randomRecord(r);
            String text = rec.toJson();
            assertEquals(rec, Record.parse(text, "f"), "seed " + seed + " case " + i + ": " + text);
            assertEquals(rec, Record.parse(text + "\n", "f"), "seed " + seed + ": a trailing newline is fine");
            Record.Signed s = Record.parseSigned(rec.toJson("hmac-sha256:" + "0".repeat(64)), "f");
            assertEquals(rec, s.record(), "seed " + seed + " case " + i);
            // one top-level field per line, metadata last: the line reader finds name and port where they are
            Map<String, String> lines = Conformance.lineReader(text);
            assertEquals(rec.name(), lines.get("name"), "seed " + seed + " case " + i);
            assertEquals(Integer.toString(rec.port()), lines.get("port"), "seed " + seed + " case " + i);
            assertTrue(text.lines().reduce((a, b) -> b).orElseThrow().equals("}"), "seed " + seed);
        }
    }

    @Test
    void names_acceptedExactlyWhenTheRuleSays_andTokensAreSafe() {
        long seed = Gen.seed();
        Random r = new Random(seed);
        for (int i = 0; i < 20_000; i++) {
            String s = r.nextInt(3) == 0 ? Gen.name(r) : Gen.string(r, 8);
            boolean valid = NAME.matcher(s).matches() && !s.equals(".") && !s.equals("..");
            try {
                Names.validate(s);
                assertTrue(valid, "seed " + seed + ": accepted " + Conformance.class.getSimpleName() + " " + s);
            } catch (MusterException e) {
                assertFalse(valid, "seed " + seed + ": refused the valid name " + s);
                assertEquals(ExitCodes.USAGE, e.status());
            }
            String token = Names.envToken(s);
            assertTrue(token.matches("[A-Z0-9_]+"), "seed " + seed + ": token " + token + " of " + s);
            assertEquals(Math.max(1, s.length()), token.length(), "seed " + seed + ": one token char per char");
            assertEquals(token, Names.envToken(token), "seed " + seed + ": a token is its own token");
        }
    }

    /** Mutated valid records: the reader returns a record or refuses with a corrupt/short-read error, nothing else. */
    @Test
    void fuzz_recordReader_overMutatedValidRecords() {
        long seed = Gen.seed();
        Random r = new Random(seed);
        long deadline = System.nanoTime() + 3_000_000_000L;
        int cases = 0;
        int accepted = 0;
        for (; cases < 30_000 && System.nanoTime() < deadline; cases++) {
            Record rec = randomRecord(r);
            String text = Gen.mutate(r, r.nextBoolean() ? rec.toJson() : rec.toJson("hmac-sha256:00"));
            try {
                Record back = Record.parse(text, "f");
                accepted++;
                Names.validate(back.name()); // whatever is accepted keeps the rules
                assertTrue(back.port() >= 0 && back.port() <= 65535, "seed " + seed);
            } catch (MusterException e) {
                assertEquals(ExitCodes.CORRUPT, e.status(), "seed " + seed + ": " + e.getMessage());
                assertFalse(e.getMessage().contains("\n") && e.getMessage().length() > 100_000, "seed " + seed);
            } catch (JsonException e) {
                assertTrue(e.endOfInput(), "seed " + seed + ": only a short read escapes as JsonException");
            } catch (RuntimeException e) {
                fail("seed " + seed + " case " + cases + ": " + e + " on " + text, e);
            }
        }
        assertTrue(cases >= 1_000, "seed " + seed + ": only " + cases + " cases in the time");
        assertTrue(
                accepted > 0 && accepted < cases,
                "seed " + seed + ": mutations both kept and broke records (" + accepted + " of " + cases + ")");
    }
}
