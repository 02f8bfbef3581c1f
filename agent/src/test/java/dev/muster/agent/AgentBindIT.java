package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * arrive=bind with await=Peers#connectAll on the peer-mesh example, three local tasks, one late; the peers' hosts
 * come from the roster (roster=true: muster.hosts).
 */
class AgentBindIT {
    @ParameterizedTest
    @ValueSource(strings = {Jvm.JAVA17, Jvm.JAVA25})
    void peerMesh_lateRank_allConnect(String java) throws Exception {
        Path classes = PeerMesh.compile();
        Path sync = Files.createTempDirectory("muster-agent-it");
        String job = "mesh-" + UUID.randomUUID();
        int base = PeerMesh.freeBasePort(3);
        List<Jvm> tasks = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            tasks.add(Jvm.task(java, job, r, 3, sync)
                    .env("PEERS_DELAY_RANK", "2")
                    .env("PEERS_DELAY_MS", "1500")
                    .agent("arrive=bind,await=Peers#connectAll,roster=true")
                    .arg("-cp", classes.toString(), "Peers", Integer.toString(base))
                    .start());
        }
        for (Jvm t : tasks) {
            assertEquals(0, t.await(60), t::toString);
            assertTrue(t.out().contains("connected to all 2 peers (hosts from muster.hosts)"), t::toString);
            // nothing on stderr: no Unsafe warning from byte-buddy on JDK 25, no agent line
            assertFalse(t.err().contains("WARNING"), t::toString);
            assertEquals("", t.err(), t::toString);
        }
    }
}
