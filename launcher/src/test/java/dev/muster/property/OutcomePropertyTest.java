package dev.muster.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.muster.barrier.Outcome;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The outcome file's encoding over seeded random outcomes, and a fuzz run of its reader. */
class OutcomePropertyTest {
    static Outcome randomOutcome(Random r) {
        int rank = r.nextInt(100_000);
        switch (r.nextInt(3)) {
            case 0 -> {
                Map<String, String> data = new HashMap<>();
                for (int i = r.nextInt(6); i > 0; i--) {
                    data.put(Gen.string(r, 10), Gen.string(r, 40));
                }
                return Outcome.release(rank, data);
            }
            case 1 -> {
                return Outcome.abort(rank, r.nextInt(256), Gen.string(r, 80));
            }
            default -> {
                List<Integer> missing = new ArrayList<>();
                for (int i = r.nextInt(10); i > 0; i--) {
                    missing.add(r.nextInt(100_000));
                }
                return Outcome.timeout(rank, missing);
            }
        }
    }

    @Test
    void outcome_encodeThenDecode_isTheSameOutcome_andEveryPrefixIsNotYet() {
        long seed = Gen.seed();
        Random r = new Random(seed);
        for (int i = 0; i < 5_000; i++) {
            Outcome o = randomOutcome(r);
            byte[] b = o.encode();
            assertEquals(o, Outcome.decode(b, b.length, "f"), "seed " + seed + " case " + i);
            int cut = r.nextInt(b.length);
            // a short read is "not yet" unless the cut happens to end a line that reads "end"
            Outcome partial;
            try {
                partial = Outcome.decode(b, cut, "f");
            } catch (MusterException e) {
                partial = null;
                assertEquals(ExitCodes.CORRUPT, e.status(), "seed " + seed);
            }
            if (!new String(b, 0, cut, StandardCharsets.UTF_8).endsWith("end\n")) {
                assertNull(partial, "seed " + seed + " case " + i + ": prefix of " + cut + " bytes");
            }
        }
    }

    @Test
    void fuzz_outcomeReader_overMutatedValidOutcomes() {
        long seed = Gen.seed();
        Random r = new Random(seed);
        long deadline = System.nanoTime() + 2_000_000_000L;
        int cases = 0;
        for (; cases < 30_000 && System.nanoTime() < deadline; cases++) {
            String text = Gen.mutate(r, new String(randomOutcome(r).encode(), StandardCharsets.UTF_8));
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            try {
                Outcome.decode(b, b.length, "f");
            } catch (MusterException e) {
                assertEquals(ExitCodes.CORRUPT, e.status(), "seed " + seed + ": " + e.getMessage());
            } catch (RuntimeException e) {
                fail("seed " + seed + " case " + cases + ": " + e + " on " + text, e);
            }
        }
    }
}
