package dev.muster.cli;

import java.util.List;
import java.util.Map;

/** Everything {@code run} was told: the barrier, rendezvous and service options, its own switches and the command. */
final class RunFlags implements FlagReader {
    final Options barrier;
    final RendezvousFlags rendezvous = new RendezvousFlags();
    final StartFlags services = new StartFlags();
    boolean noBarrier;
    boolean dryRun;
    boolean torchrun;
    List<String> command;

    RunFlags(Map<String, String> env) {
        barrier = new Options(env);
    }

    @Override
    public boolean read(String flag, Args a) {
        if (barrier.read(flag, a) || rendezvous.read(flag, a) || services.read(flag, a)) {
            return true;
        }
        switch (flag) {
            case "--no-barrier" -> {
                a.noValue(flag);
                noBarrier = true;
            }
            case "--dry-run" -> {
                a.noValue(flag);
                dryRun = true;
            }
            case "--torchrun-env" -> {
                a.noValue(flag);
                torchrun = true;
            }
            default -> {
                return false;
            }
        }
        return true;
    }
}
