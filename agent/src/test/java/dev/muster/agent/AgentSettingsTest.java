package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class AgentSettingsTest {
    private static AgentSettings parse(String args, Properties p, Map<String, String> env) {
        return AgentSettings.from(SettingSource.collect(args, p, env));
    }

    private static String error(String args) {
        MusterException e = assertThrows(MusterException.class, () -> parse(args, new Properties(), Map.of()));
        assertEquals(2, e.status());
        return e.getMessage();
    }

    @Test
    void defaults() {
        AgentSettings s = parse(null, new Properties(), Map.of());
        assertTrue(s.enabled());
        assertEquals(Duration.ofSeconds(600), s.timeout());
        assertEquals(Duration.ofMillis(100), s.pollMax());
        assertFalse(s.arriveOnBind());
        assertNull(s.awaitClass());
        assertFalse(s.needsInstrumentation());
        assertFalse(s.continueOnFailure());
    }

    @Test
    void precedence_agentOption_overProperty_overEnvironment() {
        Properties p = new Properties();
        p.setProperty("muster.timeout", "20");
        p.setProperty("muster.poll-max", "7");
        Map<String, String> env = Map.of("MUSTER_TIMEOUT", "30", "MUSTER_POLL_MAX", "9", "MUSTER_SYNC_DIR", "/s");
        AgentSettings s = parse("timeout=10", p, env);
        assertEquals(Duration.ofSeconds(10), s.timeout());
        assertEquals(Duration.ofMillis(7), s.pollMax());
        assertEquals("/s", s.syncDir());
    }

    @Test
    void arriveAndAwait() {
        AgentSettings s = parse("arrive=bind:8080,await=com.example.Peers#connectAll", new Properties(), Map.of());
        assertTrue(s.arriveOnBind());
        assertEquals(8080, s.arrivePort());
        assertEquals("com.example.Peers", s.awaitClass());
        assertEquals("connectAll", s.awaitMethod());
        assertTrue(s.needsInstrumentation());
    }

    @Test
    void registerWithoutPort_meansAuto_andNeedsTheBindAdvice() {
        AgentSettings s = parse("register=model-server", new Properties(), Map.of());
        assertEquals(0, s.port());
        assertTrue(s.needsInstrumentation());
        assertFalse(parse("register=m,port=9000", new Properties(), Map.of()).needsInstrumentation());
    }

    @Test
    void rendezvousNames_separatedBySemicolons() {
        assertEquals(
                List.of("a", "b.c"),
                parse("rendezvous=a;b.c", new Properties(), Map.of()).rendezvous());
    }

    @Test
    void badValues_nameTheOptionAndTheFix() {
        assertTrue(error("timeout=x").startsWith("agent option timeout='x' is not a positive duration"));
        assertTrue(error("arrive=soon").contains("arrive='soon' is not main, bind or bind:PORT"));
        assertTrue(error("arrive=bind:0").contains("port number"));
        assertTrue(error("await=connectAll").contains("com.example.Peers#connectAll"));
        assertTrue(error("onfailure=maybe").contains("neither exit nor continue"));
        assertTrue(error("verbose=perhaps").contains("true or false"));
        assertTrue(error("port=80").contains("add register=NAME"));
        assertTrue(error("rendezvous=a/b").contains("not a rendezvous name"));
        assertTrue(error("colour=blue").startsWith("unknown agent option 'colour'; known options: enabled,"));
        assertTrue(error("timeout").contains("has no value"));
        assertTrue(error("timeout=1,timeout=2").contains("given twice"));
    }

    @Test
    void killSwitch_andOnfailure_countNextToABadOption() {
        SettingSource s = SettingSource.collect("colour=blue,enabled=false", new Properties(), Map.of());
        assertFalse(AgentSettings.enabled(s));
        SettingSource c = SettingSource.collect("timeout=x,onfailure=continue", new Properties(), Map.of());
        assertTrue(AgentSettings.continueOnFailure(c));
        assertFalse(AgentSettings.enabled(
                SettingSource.collect(null, new Properties(), Map.of("MUSTER_ENABLED", "false"))));
    }

    @Test
    void environmentNames() {
        assertEquals("MUSTER_POLL_MAX", SettingSource.envName("poll-max"));
        assertEquals("MUSTER_TTL_SECONDS", SettingSource.envName("ttl-seconds"));
    }

    @Test
    void cluster_impliesRoster_andRefusesAnUnknownLibrary() {
        AgentSettings s = parse("cluster=hazelcast;jgroups", new Properties(), Map.of());
        assertTrue(s.roster());
        assertEquals(java.util.List.of("hazelcast", "jgroups"), s.clusters());
        String m = error("cluster=ignite");
        assertTrue(m.contains("cluster") && m.contains("'ignite'"), m);
    }

    @Test
    void cluster_withArriveOnBind_isRefused_theLibraryReadsItsMembersBeforeItBinds() {
        String m = error("cluster=hazelcast,arrive=bind");
        assertTrue(m.contains("cluster='hazelcast'") && m.contains("arrive=bind"), m);
    }
}
