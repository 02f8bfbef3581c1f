package dev.muster.barrier;

import java.util.Map;

/**
 * How the tasks of a step learn the outcome: the TCP release path with the file protocol as fallback (the
 * default), the file protocol alone, or the Sarus hook's way (a benchmark baseline, not for production).
 *
 * @param bindAddress where rank 0 listens; null picks the node's address (see {@link TcpEndpoint#bindAddress})
 */
public record Transport(Mode mode, String bindAddress) {

    public enum Mode { TCP, FILE, SARUS_BASELINE }

    public static final Transport TCP = new Transport(Mode.TCP, null);
    public static final Transport FILE = new Transport(Mode.FILE, null);

    /** From the environment, for callers without flags (the agent): {@code MUSTER_TCP=0} forces the file path. */
    public static Transport fromEnv(Map<String, String> env) {
        String tcp = env.getOrDefault("MUSTER_TCP", "");
        Mode mode = tcp.equals("0") || tcp.equalsIgnoreCase("false") || tcp.equalsIgnoreCase("no") ? Mode.FILE
                : Mode.TCP;
        String bind = env.get("MUSTER_BIND_ADDRESS");
        return new Transport(mode, bind == null || bind.isBlank() ? null : bind.trim());
    }
}
