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
    /** Wait in the JVM even where the small waiter is there (docs/barrier.md, "The small waiter"). */
    boolean noWaiter;
    /** The step roster (docs/roster.md): asked for by --roster, or implied by --publish, --port, --address. */
    boolean roster;

    final java.util.Map<String, String> publish = new java.util.TreeMap<>();
    final java.util.List<String> ports = new java.util.ArrayList<>();
    String address;
    List<String> command;

    RunFlags(Map<String, String> env) {
        barrier = new Options(env);
    }

    @Override
    public boolean read(String flag, Args a) {
        if (flag.equals("--port")) {
            // a number is --register's port (hpc-compose's flag); a name asks for a roster port
            String v = a.peekValue();
            if (v == null || v.isEmpty() || v.chars().allMatch(Character::isDigit)) {
                return rendezvous.read(flag, a);
            }
            ports.add(a.value(flag));
            roster = true;
            return true;
        }
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
            case "--roster" -> {
                a.noValue(flag);
                roster = true;
            }
            case "--publish" -> {
                // checked (names, sizes, files) on the task's path, so that a bad one aborts the step
                String v = a.value(flag);
                int eq = v.indexOf('=');
                publish.put(eq < 0 ? v : v.substring(0, eq), eq < 0 ? "\0missing" : v.substring(eq + 1));
                roster = true;
            }
            case "--address" -> {
                address = a.value(flag);
                roster = true;
            }
            case "--no-waiter" -> {
                a.noValue(flag);
                noWaiter = true;
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
