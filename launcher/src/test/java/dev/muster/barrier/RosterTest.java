package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.json.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The step roster through the barrier, with in-process participants (threads as ranks, real files, real
 * sockets): every rank gets the same roster, in rank order, with every card's ports and published values, by the
 * TCP release (streamed or, above the budget, through the roster file) and by the file protocol.
 */
class RosterTest {
    @TempDir
    Path root;

    static Card card(int r) {
        return new Card(
                r,
                "node" + (r / 2),
                1000 + r,
                r % 2,
                "10.0." + (r / 256) + "." + (r % 256),
                "fab0",
                Map.of("http", 8000 + r),
                Map.of("role", r == 0 ? "head" : "worker", "weird", "a=b\nc\\d"));
    }

    @ParameterizedTest(name = "{0} participants, {1}")
    @CsvSource({"8, TCP", "8, FILE", "1024, TCP", "4096, TCP"})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void roster_ofInProcessParticipants_reachesEveryRankInRankOrder(int n, Transport.Mode mode) throws IOException {
        long need = mode == Transport.Mode.TCP ? 4L * n + 1024 : n + 1024;
        Assumptions.assumeTrue(BarrierScaleTest.openFilesSoftLimit() >= need, "open-files soft limit too low for " + n);
        Ranks r = new Ranks(root, "roster-" + n, n, mode, Duration.ofSeconds(100), Duration.ofMillis(50));
        r.cards = RosterTest::card;
        try {
            List<CompletableFuture<Ranks.Result>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(r.start(i, Map.of(Release.MASTER_ADDR, "10.0.0.1", Roster.WANTED, "1")));
            }
            byte[] first = null;
            byte[] digest = null;
            for (CompletableFuture<Ranks.Result> f : fs) {
                Ranks.Result res = f.join();
                assertEquals(0, res.code(), () -> "rank " + res.rank() + ": " + res.failure());
                assertNotNull(res.roster(), "rank " + res.rank() + " got no roster");
                if (first == null) {
                    first = res.roster();
                    digest = Ranks.digest(first);
                } else {
                    assertArrayEquals(digest, res.roster(), "rank " + res.rank() + "'s roster differs from rank 0's");
                }
            }
            checkRoster(first, n);
            Map<String, String> env = Roster.env(first);
            assertTrue(env.get("MUSTER_HOSTS").startsWith("node0,node0,node1,node1,"), env.get("MUSTER_HOSTS"));
            assertEquals("10.0.0.0", env.get("MUSTER_ROSTER_ADDR0"));
            Ranks.Result zero = fs.get(0).join();
            String via = zero.outcome().data().get(Roster.VIA);
            assertEquals(mode == Transport.Mode.FILE ? "file" : Roster.streams(n, first.length) ? "tcp" : "file", via);
            if (mode == Transport.Mode.TCP && via.equals("file")) {
                // above the budget rank 0 sends the outcome alone: far below N copies of the roster
                assertTrue(r.sentBytes() < (long) n * 1024, "rank 0 sent " + r.sentBytes() + " bytes");
            }
        } finally {
            r.close();
        }
    }

    @SuppressWarnings("unchecked")
    private static void checkRoster(byte[] json, int n) {
        Map<String, Object> doc = (Map<String, Object>) JsonParser.parse(new String(json, StandardCharsets.UTF_8));
        assertEquals(1L, doc.get("version"));
        assertEquals((long) n, doc.get("size"));
        List<Object> ranks = (List<Object>) doc.get("ranks");
        assertEquals(n, ranks.size());
        for (int i = 0; i < n; i++) {
            Map<String, Object> e = (Map<String, Object>) ranks.get(i);
            Card c = card(i);
            assertEquals((long) i, e.get("rank"));
            assertEquals(c.node(), e.get("node"));
            assertEquals(c.address(), e.get("address"));
            assertEquals(c.pid(), e.get("pid"));
            assertEquals((long) (8000 + i), ((Map<String, Object>) e.get("ports")).get("http"));
            assertEquals(c.values(), e.get("values"));
        }
    }

    @Test
    void release_withoutRosterWanted_carriesNone() {
        Ranks r = new Ranks(root, "none", 3, Transport.Mode.TCP, Duration.ofSeconds(30));
        r.cards = RosterTest::card;
        try {
            List<CompletableFuture<Ranks.Result>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(r.start(i));
            }
            for (CompletableFuture<Ranks.Result> f : fs) {
                assertNull(f.join().roster());
            }
            assertTrue(Files.notExists(root.resolve("none").resolve(RosterFiles.ROSTER)));
        } finally {
            r.close();
        }
    }

    @Test
    void arrivalFile_withoutCard_givesNodeAndPid() throws IOException {
        Ranks r = new Ranks(root, "old", 2, Transport.Mode.FILE, Duration.ofSeconds(30));
        r.cards = rank -> rank == 0 ? card(0) : null;
        FileBarrier one = r.barrier(1);
        one.prepare();
        one.arrive(); // protocol 1 arrival file: host and pid only
        try {
            Ranks.Result zero = r.start(0, Map.of(Roster.WANTED, "1")).join();
            String json = new String(zero.roster(), StandardCharsets.UTF_8);
            assertTrue(
                    json.contains("{\"rank\":1,\"node\":\"node1\",\"pid\":"
                            + ProcessHandle.current().pid()),
                    json);
        } finally {
            r.close();
        }
    }

    @Test
    void card_valueOverLimit_isUsageError() {
        Card c = new Card(0, "n", 1, 0, "", "", Map.of(), Map.of("big", "x".repeat(Card.MAX_VALUE + 1)));
        MusterException e = assertThrows(MusterException.class, c::check);
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(e.getMessage().contains("--publish big"), e.getMessage());
    }

    @Test
    void card_badKey_isUsageError() {
        Card c = new Card(0, "n", 1, 0, "", "", Map.of(), Map.of("a b", "x"));
        MusterException e = assertThrows(MusterException.class, c::check);
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(e.getMessage().contains("'a b'"), e.getMessage());
    }

    @Test
    void card_over4KiB_isUsageError() {
        Map<String, String> v = new java.util.TreeMap<>();
        for (int i = 0; i < 5; i++) {
            v.put("k" + i, "x".repeat(Card.MAX_VALUE));
        }
        MusterException e =
                assertThrows(MusterException.class, () -> new Card(0, "n", 1, 0, "", "", Map.of(), v).check());
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(e.getMessage().contains("card has"), e.getMessage());
    }

    @Test
    void card_roundTrips_throughItsEncoding() {
        Card c = card(5);
        byte[] b = c.check();
        assertEquals(c, Card.decode(b, 0, b.length, 5));
        assertThrows(IllegalArgumentException.class, () -> Card.decode(b, 0, b.length, 4));
    }

    @Test
    void helloVersion2_carriesTheCard_andRefusesAStrangerBeforeReadingIt() {
        byte[] token = new byte[TcpEndpoint.TOKEN_BYTES];
        byte[] card = card(3).check();
        String line = TcpHello.HELLO_CARD + "3 " + HexFormat.of().formatHex(token) + " " + card.length + "\n";
        TcpHello h = new TcpHello(0);
        h.bytes.put(line.getBytes(StandardCharsets.US_ASCII));
        assertEquals(TcpHello.INCOMPLETE, h.parse(8, token));
        h.bytes.put(card);
        assertEquals(3, h.parse(8, token));
        assertArrayEquals(card, h.card());

        byte[] wrong = token.clone();
        wrong[0] = 1;
        TcpHello s = new TcpHello(0);
        s.bytes.put(line.getBytes(StandardCharsets.US_ASCII));
        assertEquals(TcpHello.BAD, s.parse(8, wrong));
    }
}
