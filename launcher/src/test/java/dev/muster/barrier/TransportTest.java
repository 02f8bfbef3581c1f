package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The transport callers without flags (the agent) take from the environment. */
class TransportTest {
    @Test
    void musterTcp_offWords_forceTheFileProtocol_anythingElseIsTcp() {
        for (String off : new String[] {"0", "false", "FALSE", "no", "No"}) {
            assertEquals(Transport.FILE, Transport.fromEnv(Map.of("MUSTER_TCP", off)), off);
        }
        for (String on : new String[] {"1", "true", "yes", "", "off"}) {
            assertEquals(Transport.TCP, Transport.fromEnv(Map.of("MUSTER_TCP", on)), on);
        }
        assertEquals(Transport.TCP, Transport.fromEnv(Map.of()));
    }

    @Test
    void bindAddress_isTrimmed_andBlankMeansNone() {
        assertEquals(
                new Transport(Transport.Mode.TCP, "10.0.0.1"),
                Transport.fromEnv(Map.of("MUSTER_BIND_ADDRESS", " 10.0.0.1 ")));
        assertEquals(Transport.TCP, Transport.fromEnv(Map.of("MUSTER_BIND_ADDRESS", "  ")));
        assertEquals(
                new Transport(Transport.Mode.FILE, "h"),
                Transport.fromEnv(Map.of("MUSTER_TCP", "0", "MUSTER_BIND_ADDRESS", "h")));
    }
}
