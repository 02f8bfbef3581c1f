package dev.muster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArgsTest {
    @Test
    void durations_acceptUnitsAndBareNumbers() {
        assertEquals(Duration.ofSeconds(30), Args.parseDuration("t", "30", "s"));
        assertEquals(Duration.ofMillis(500), Args.parseDuration("t", "500ms", "s"));
        assertEquals(Duration.ofMinutes(2), Args.parseDuration("t", "2m", "s"));
        assertEquals(Duration.ofMillis(100), Args.parseDuration("t", "100", "ms"));
        assertEquals(Duration.ofMillis(1500), Args.parseDuration("t", "1.5s", "ms"));
    }

    @Test
    void nonPositiveOrGarbageDurations_areUsageErrorsNamingTheValue() {
        for (String bad : List.of("0", "-1", "abc", "", "NaN", "1e9")) {
            MusterException e = assertThrows(MusterException.class, () -> Args.parseDuration("--timeout", bad, "s"));
            assertEquals(2, e.status());
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void options_stopAtDoubleDash() {
        Args a = new Args("run", List.of("--timeout=5", "--", "--timeout", "x"));
        assertTrue(a.moreOptions());
        assertEquals("--timeout", a.option());
        assertEquals("5", a.value("--timeout"));
        assertEquals(false, a.moreOptions());
        assertEquals(List.of("--timeout", "x"), a.rest());
    }

    @Test
    void missingValue_isAUsageError() {
        Args a = new Args("run", List.of("--timeout"));
        a.moreOptions();
        String flag = a.option();
        assertEquals(2, assertThrows(MusterException.class, () -> a.value(flag)).status());
    }
}
