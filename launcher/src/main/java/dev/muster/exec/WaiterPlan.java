package dev.muster.exec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What the small waiter needs besides the connection: see {@link Waiter#exec}. */
public record WaiterPlan(
        Path waiter,
        Path program,
        List<String> argv,
        Map<String, String> env,
        Map<String, String> exports,
        List<String> releaseKeys,
        Path trace) {}
