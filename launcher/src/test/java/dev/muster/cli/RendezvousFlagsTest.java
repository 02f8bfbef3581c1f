package dev.muster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RendezvousFlagsTest {
    private static RendezvousFlags parse(String... argv) {
        RendezvousFlags f = new RendezvousFlags();
        Args a = new Args("run", List.of(argv));
        while (a.moreOptions()) {
            String flag = a.option();
            if (!f.read(flag, a)) {
                throw a.unknown(flag);
            }
        }
        f.check();
        return f;
    }

    @Test
    void names_keepCommandLineOrder_andRequiredWinsOverOptional() {
        RendezvousFlags f = parse("--optional", "b", "--rendezvous", "a,b", "--optional", "c,a");
        assertEquals(List.of("b", "a", "c"), List.copyOf(f.names.keySet()));
        assertEquals(Map.of("a", true, "b", true, "c", false), f.names);
    }

    @Test
    void providerFlags_withoutRegister_areRefusedByName() {
        MusterException e = assertThrows(MusterException.class, () -> parse("--port", "80", "--ttl-seconds", "5"));
        assertEquals(2, e.status());
        assertTrue(
                e.getMessage().contains("--port, --ttl-seconds only mean something with --register NAME"),
                e.getMessage());
    }

    @Test
    void register_withoutPort_isAUsageError() {
        MusterException e = assertThrows(MusterException.class, () -> parse("--register", "svc"));
        assertTrue(e.getMessage().contains("--register svc needs --port P"), e.getMessage());
    }

    @Test
    void badValues_areUsageErrorsNamingTheFlag() {
        assertTrue(assertThrows(MusterException.class, () -> parse("--register", "s", "--port", "70000"))
                .getMessage()
                .contains("--port 70000 is out of range"));
        assertTrue(assertThrows(MusterException.class, () -> parse("--rendezvous", "a", "--rendezvous-timeout", "x"))
                .getMessage()
                .contains("--rendezvous-timeout 'x' is not a positive duration"));
        assertTrue(assertThrows(MusterException.class, () -> parse("--verify"))
                .getMessage()
                .contains("--verify only means something with --rendezvous"));
    }

    @Test
    void runValidate_refusesBadNames_tokenCollisions_andBadProbes() {
        Map<String, String> env = Map.of("HOME", "/nonexistent");
        assertThrows(MusterException.class, () -> new RunRendezvous(parse("--rendezvous", "a/b"), env).validate());
        MusterException collide = assertThrows(
                MusterException.class, () -> new RunRendezvous(parse("--rendezvous", "a-b,a.b"), env).validate());
        assertTrue(collide.getMessage().contains("both map to environment token 'A_B'"), collide.getMessage());
        MusterException probe = assertThrows(
                MusterException.class,
                () -> new RunRendezvous(parse("--register", "svc", "--port", "80", "--ready", "udp:80"), env)
                        .validate());
        assertTrue(probe.getMessage().startsWith("--ready 'udp:80' is not a readiness probe"), probe.getMessage());
        MusterException path = assertThrows(
                MusterException.class,
                () -> new RunRendezvous(parse("--register", "svc", "--port", "80", "--path", "x"), env).validate());
        assertTrue(path.getMessage().contains("--path 'x' must be empty or start with '/'"), path.getMessage());
    }
}
