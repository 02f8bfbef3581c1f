package dev.muster.barrier;

import java.time.Duration;

/**
 * The timing of one task's barrier wait.
 *
 * @param timeout      each task's deadline, counted from its own arrival
 * @param pollMax      ceiling of the outcome poll interval
 * @param leaderPoll   ceiling of rank 0's listing interval (rank 0 alone lists, so it can afford to be quicker)
 * @param progress     interval of progress lines; the first comes after half of it
 */
public record BarrierSettings(Duration timeout, Duration pollMax, Duration leaderPoll, Duration progress) {
    public static BarrierSettings of(Duration timeout, Duration pollMax) {
        // rank 0 alone lists, and only the groups still missing somebody: a quarter of the others' ceiling
        // notices the last arrival quickly while keeping the step's listings >= 10x below one per task per poll
        Duration leader = Duration.ofNanos(pollMax.toNanos() / 4); // dividedBy would load BigDecimal
        if (leader.compareTo(Duration.ofMillis(1)) < 0) {
            leader = Duration.ofMillis(1);
        }
        return new BarrierSettings(timeout, pollMax, leader, Duration.ofSeconds(10));
    }
}
