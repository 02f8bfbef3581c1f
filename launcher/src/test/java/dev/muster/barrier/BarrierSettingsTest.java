package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The timing a task's wait derives from --timeout and --poll-max ({@link BarrierSettings#of}). */
class BarrierSettingsTest {
    @Test
    void of_rank0ListsFourTimesAsOftenAsTheOthersPoll() {
        BarrierSettings s = BarrierSettings.of(Duration.ofSeconds(600), Duration.ofSeconds(2));
        assertEquals(Duration.ofSeconds(600), s.timeout());
        assertEquals(Duration.ofSeconds(2), s.pollMax());
        assertEquals(Duration.ofMillis(500), s.leaderPoll());
        assertEquals(Duration.ofSeconds(10), s.progress());
    }

    @Test
    void of_rank0sListingIntervalIsAtLeastOneMillisecond() {
        assertEquals(
                Duration.ofMillis(1),
                BarrierSettings.of(Duration.ofSeconds(1), Duration.ofMillis(2)).leaderPoll());
        assertEquals(
                Duration.ofMillis(1),
                BarrierSettings.of(Duration.ofSeconds(1), Duration.ofMillis(4)).leaderPoll());
        assertEquals(
                Duration.ofNanos(1_250_000),
                BarrierSettings.of(Duration.ofSeconds(1), Duration.ofMillis(5)).leaderPoll());
    }
}
