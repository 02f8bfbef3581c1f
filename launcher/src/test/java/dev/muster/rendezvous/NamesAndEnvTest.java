package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The character classes of names, environment tokens and history file names at their edges (the characters just
 * outside a-z, A-Z and 0-9 are ` { @ [ / :), and the variables a client gets.
 */
class NamesAndEnvTest {
    private static final String OUTSIDE = "`{@[/:";

    @Test
    void validate_acceptsEveryLetterDigitAndDotDashUnderscore_refusesTheirNeighbours() {
        Names.validate("azAZ09._-");
        for (char c : OUTSIDE.toCharArray()) {
            MusterException e = assertThrows(MusterException.class, () -> Names.validate("a" + c), "a" + c);
            assertEquals(ExitCodes.USAGE, e.status());
        }
        Names.validate("...");
        Names.validate(".a");
    }

    @Test
    void envToken_upperCasesLetters_keepsDigits_replacesEverythingElse() {
        assertEquals("AZAZ09", Names.envToken("azAZ09"));
        assertEquals("______", Names.envToken(OUTSIDE));
        assertEquals("A_B", Names.envToken("a.b"));
    }

    @Test
    void historyFileName_sanitisesJobAndService_manualWithoutService() {
        Record manual = Record.create("n", "12/3", null, "h", 1, "tcp", null, 0, 1, "/c", null);
        assertEquals("12_3-manual.json", Store.historyFileName(manual));
        Record svc = Record.create("n", "7", "a b" + OUTSIDE + "azAZ09._-", "h", 1, "tcp", null, 0, 1, "/c", null);
        assertEquals("7-a_b______azAZ09._-.json", Store.historyFileName(svc));
    }

    @Test
    void clientEnv_perNameAndGenericForTheLast_nullFieldsEmpty() {
        Record a = Record.create("model-a", "1", "svc", "h1", 80, "http", "/v1", 0, 1, "/c", null);
        Record b = Record.create("db", "2", null, "h2", 5432, "tcp", null, 0, 1, "/c", null);
        Map<String, String> env = ClientEnv.of(List.of(a, b));
        assertEquals("http://h1:80/v1", env.get("HPC_COMPOSE_RDZV_MODEL_A_URL"));
        assertEquals("80", env.get("HPC_COMPOSE_RDZV_MODEL_A_PORT"));
        assertEquals("/v1", env.get("HPC_COMPOSE_RDZV_MODEL_A_PATH"));
        assertEquals("svc", env.get("HPC_COMPOSE_RDZV_MODEL_A_SERVICE"));
        assertEquals("1", env.get("HPC_COMPOSE_RDZV_MODEL_A_JOB_ID"));
        assertEquals("", env.get("HPC_COMPOSE_RDZV_DB_PATH"));
        assertEquals("", env.get("HPC_COMPOSE_RDZV_DB_SERVICE"));
        assertEquals("db", env.get("HPC_COMPOSE_RDZV_NAME"));
        assertEquals("h2", env.get("HPC_COMPOSE_RDZV_HOST"));
        assertEquals("tcp", env.get("HPC_COMPOSE_RDZV_PROTOCOL"));
        assertEquals(8 * 3, env.size());
        assertEquals(Map.of(), ClientEnv.of(List.of()));
    }

    @Test
    void clientEnv_namesSharingAToken_areRefused_theSameNameTwiceIsNot() {
        ClientEnv.refuseTokenCollisions(List.of("a-b", "a-b"));
        MusterException e =
                assertThrows(MusterException.class, () -> ClientEnv.refuseTokenCollisions(List.of("a-b", "c", "a.b")));
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(e.getMessage().contains("'a-b' and 'a.b' both map to environment token 'A_B'"), e.getMessage());
    }

    @Test
    void clientEnv_ofRecordsSharingAToken_isRefused_ratherThanOneOverwritingTheOther() {
        Record a = Record.create("a-b", "1", null, "h1", 80, "http", null, 0, 1, "/c", null);
        Record b = Record.create("a.b", "2", null, "h2", 81, "http", null, 0, 1, "/c", null);
        MusterException e = assertThrows(MusterException.class, () -> ClientEnv.of(List.of(a, b)));
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(e.getMessage().contains("both map to environment token 'A_B'"), e.getMessage());
    }
}
