package dev.muster.barrier;

import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * How the tasks of a step learn the outcome: the TCP release path with the file protocol as fallback (the
 * default), the file protocol alone, or the Sarus hook's way (a benchmark baseline, not for production).
 *
 * @param bindAddress where rank 0 listens; null picks the node's address (see {@link TcpEndpoint#bindAddress})
 */
public record Transport(Mode mode, String bindAddress) {

    public enum Mode {
        TCP,
        FILE,
        SARUS_BASELINE
    }

    public static final Transport TCP = new Transport(Mode.TCP, null);
    public static final Transport FILE = new Transport(Mode.FILE, null);

    /** From the environment, for callers without flags (the agent): {@code MUSTER_TCP=0} forces the file path. */
    public static Transport fromEnv(Map<String, String> env) {
        String tcp = env.getOrDefault("MUSTER_TCP", "");
        Mode mode =
                tcp.equals("0") || tcp.equalsIgnoreCase("false") || tcp.equalsIgnoreCase("no") ? Mode.FILE : Mode.TCP;
        String bind = env.get("MUSTER_BIND_ADDRESS");
        return new Transport(mode, bind == null || bind.isBlank() ? null : bind.trim());
    }

    /**
     * The barrier of this transport on top of the file protocol's {@code files}.
     *
     * @param bindAddress     resolves where rank 0 listens (TCP only)
     * @param bindDescription how to name that address in a message
     */
    Barrier barrier(FileBarrier files, Callable<InetAddress> bindAddress, String bindDescription) {
        return switch (mode) {
            case TCP -> new TcpBarrier(files, bindAddress, bindDescription);
            case SARUS_BASELINE -> new SarusBaseline(files);
            case FILE -> files;
        };
    }
}
