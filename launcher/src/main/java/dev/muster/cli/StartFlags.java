package dev.muster.cli;

import dev.muster.core.MusterException;
import dev.muster.probe.Probe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code run}'s service options: {@code --start CMD}, {@code --arrive-when PROBE}, {@code --arrive-timeout S}. */
final class StartFlags {
    final List<String> commands = new ArrayList<>();
    final List<Probe> probes = new ArrayList<>();
    Duration arriveTimeout;

    /** Reads one service option; false when {@code flag} is not one. */
    boolean read(String flag, Args a) {
        switch (flag) {
            case "--start" -> {
                String c = a.value(flag);
                if (c.isBlank()) {
                    throw MusterException.usage("run: --start is empty; give the service's command, e.g. --start "
                            + "'/usr/sbin/sshd -D -f sshd_config'");
                }
                commands.add(c);
            }
            case "--arrive-when" -> probes.add(Probe.parse(flag, a.value(flag)));
            case "--arrive-timeout" -> arriveTimeout = a.duration(flag, "s");
            default -> {
                return false;
            }
        }
        return true;
    }

    boolean used() {
        return !commands.isEmpty() || !probes.isEmpty();
    }

    void check() {
        if (arriveTimeout != null && probes.isEmpty()) {
            throw MusterException.usage(
                    "run: --arrive-timeout needs --arrive-when PROBE; add the probe or drop " + "the timeout");
        }
    }
}
