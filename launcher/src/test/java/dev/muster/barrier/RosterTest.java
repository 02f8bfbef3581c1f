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

    /** Rank r's card, 16 tasks per node (node0 holds ranks 0 to 15). */
    static Card card(int r) {
        return card(r, 16);
    }

    static Card card(int r, int perNode) {
        return new Card(
                r,
                "node" + (r / perNode),
                1000 + r,
                r % perNode,
                "10.0." + (r / 256) + "." + (r % 256),
                "fab0",
                Map.of("http", 8000 + r),
                Map.of("role", r == 0 ? "head" : "worker", "weird", "a=b\nc\\d"));
    }

    @ParameterizedTest(name = "{0} participants, {1}, {2} per node")
    @CsvSource({"8, TCP, 2", "8, FILE, 2", "1024, TCP, 16", "4096, TCP, 16", "1024, TCP, 1"})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void roster_ofInProcessParticipants_reachesEveryRankInRankOrder(int n, Transport.Mode mode, int perNode)
            throws IOException {
        long need = mode == Transport.Mode.TCP ? 4L * n + 1024 : n + 1024;
        if (BarrierScaleTest.openFilesSoftLimit() < need) {
            dev.muster.testing.Slurm.unavailable("open-files soft limit " + BarrierScaleTest.openFilesSoftLimit()
                    + " too low for " + n + " participants (" + need + "): raise it with ulimit -n");
        }
        // under mutation testing (scripts/mutation) every barrier mutant runs this test: 1,024 participants on 64
        // nodes reach the per-node fan-out; more nodes only repeat it, with thousands of threads on 2 cores
        Assumptions.assumeFalse(
                Boolean.getBoolean("muster.mutation") && n / perNode > 64, "more than 64 nodes, under mutation");
        Ranks r = new Ranks(root, "roster-" + n, n, mode, Duration.ofSeconds(100), Duration.ofMillis(50));
        r.cards = i -> card(i, perNode);
        try {
            List<CompletableFuture<Ranks.Result>> fs = new ArrayList<>();
            fs.add(r.start(0, Map.of(Release.MASTER_ADDR, "10.0.0.1", Roster.WANTED, "1")));
            if (mode == Transport.Mode.TCP) {
                // how the roster travels is rank 0's choice over TCP: started before rank 0 listens (a loaded
                // machine; seen on JDK 17), the others arrive by files and the roster rightly goes by file
                rankZeroListens(r);
            }
            for (int i = 1; i < n; i++) {
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
            checkRoster(first, n, perNode);
            Map<String, String> env = Roster.env(first);
            assertTrue(
                    env.get("MUSTER_HOSTS").startsWith("node0,".repeat(perNode) + "node1,"), env.get("MUSTER_HOSTS"));
            assertEquals("10.0.0.0", env.get("MUSTER_ROSTER_ADDR0"));
            Ranks.Result zero = fs.get(0).join();
            String via = zero.outcome().data().get(Roster.VIA);
            int nodes = (n + perNode - 1) / perNode;
            String expected = mode == Transport.Mode.FILE ? "file" : RosterRelay.via(true, n, first.length, nodes - 1);
            assertEquals(expected, via);
            if (mode == Transport.Mode.TCP && !via.equals("tcp")) {
                // rank 0 sends the roster to one task per other node at most, the outcome alone to the rest
                long copies = via.equals("node") ? nodes - 1 : 0;
                assertTrue(
                        r.sentBytes() < copies * (first.length + 1024) + (long) n * 1024,
                        "rank 0 sent " + r.sentBytes() + " bytes");
            }
            if (via.equals("node")) {
                checkPerNode(fs, perNode);
            }
        } finally {
            r.close();
        }
    }

    /** Per node: its lowest rank got the roster on its stream, every other one from the node's file. */
    private void checkPerNode(List<CompletableFuture<Ranks.Result>> fs, int perNode) throws IOException {
        // a leader released over TCP has the roster from its stream; the others of a node take the node's file,
        // or the step's where none came within RosterRelay.NODE_WAIT_NANOS (a leader counted by its arrival file
        // before it connected learns the release from the outcome file; on a loaded machine a leader is late)
        for (CompletableFuture<Ranks.Result> f : fs) {
            Ranks.Result res = f.join();
            String from = res.rosterFrom();
            if (res.rank() == 0) {
                assertEquals("built", from);
            } else if (res.rank() % perNode == 0 && "tcp".equals(res.via())) {
                assertEquals("stream", from, "rank " + res.rank() + ", a node leader released over TCP");
            } else {
                assertTrue(from.equals("node") || from.equals("shared"), "rank " + res.rank() + ": " + from);
            }
        }
        try (var files = Files.list(root.resolve("node-rosters"))) {
            assertEquals(fs.size() / perNode, files.count(), "one roster file per node");
        }
    }

    private static void rankZeroListens(Ranks r) {
        dev.muster.testing.Await.until(
                "rank 0 published its endpoint",
                Duration.ofSeconds(60),
                () -> r.barrier(1).polls().endpoint() != null);
    }

    @SuppressWarnings("unchecked")
    private static void checkRoster(byte[] json, int n, int perNode) {
        Map<String, Object> doc = (Map<String, Object>) JsonParser.parse(new String(json, StandardCharsets.UTF_8));
        assertEquals(1L, doc.get("version"));
        assertEquals((long) n, doc.get("size"));
        List<Object> ranks = (List<Object>) doc.get("ranks");
        assertEquals(n, ranks.size());
        for (int i = 0; i < n; i++) {
            Map<String, Object> e = (Map<String, Object>) ranks.get(i);
            Card c = card(i, perNode);
            assertEquals((long) i, e.get("rank"));
            assertEquals(c.node(), e.get("node"));
            assertEquals(c.address(), e.get("address"));
            assertEquals(c.pid(), e.get("pid"));
            assertEquals((long) (8000 + i), ((Map<String, Object>) e.get("ports")).get("http"));
            assertEquals(c.values(), e.get("values"));
        }
    }

    /**
     * A task without a node roster directory, as one of a version that predates the per-node fan-out (it reads
     * the step's roster file whenever the roster does not follow its outcome), still gets the roster; so do the
     * tasks of a node whose leader writes no node file (after a wait, from the step's file).
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void perNodeFanOut_tasksWithoutNodeFiles_readTheStepsFile() {
        int n = 128;
        Ranks r = new Ranks(root, "compat", n, Transport.Mode.TCP, Duration.ofSeconds(50), Duration.ofMillis(50));
        r.cards = RosterTest::card;
        r.withoutNodeDir = rank -> rank == 3 || rank == 16;
        try {
            List<CompletableFuture<Ranks.Result>> fs = new ArrayList<>();
            fs.add(r.start(0, Map.of(Release.MASTER_ADDR, "10.0.0.1", Roster.WANTED, "1")));
            // rank 0 listening first: the relay is rank 0's choice over TCP, which a loaded machine could otherwise
            // pre-empt by starting the others before rank 0's listener is up (rank 0 then waits by files)
            rankZeroListens(r);
            for (int i = 1; i < n; i++) {
                fs.add(r.start(i, Map.of(Release.MASTER_ADDR, "10.0.0.1", Roster.WANTED, "1")));
            }
            byte[] digest = Ranks.digest(fs.get(0).join().roster());
            assertEquals(RosterRelay.NODE, fs.get(0).join().outcome().data().get(Roster.VIA));
            for (CompletableFuture<Ranks.Result> f : fs) {
                Ranks.Result res = f.join();
                assertEquals(0, res.code(), () -> "rank " + res.rank() + ": " + res.failure());
                if (res.rank() > 0) {
                    assertArrayEquals(digest, res.roster(), "rank " + res.rank() + "'s roster differs");
                }
            }
            assertEquals("shared", fs.get(3).join().rosterFrom());
        } finally {
            r.close();
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

    @Test
    void nodeDir_isUnderTmpdir_elseUnderSlashTmp() {
        String user = "muster-" + dev.muster.core.Posix.uid();
        assertEquals(Path.of("/scratch/t", user, "roster"), Roster.nodeDir(Map.of("TMPDIR", "/scratch/t")));
        assertEquals(Path.of("/tmp", user, "roster"), Roster.nodeDir(Map.of("TMPDIR", "")));
        assertEquals(Path.of("/tmp", user, "roster"), Roster.nodeDir(Map.of()));
    }

    @Test
    void streams_whileEveryCopyTogetherFitsTheBudget() {
        assertTrue(Roster.streams(2, Roster.STREAM_BUDGET));
        assertTrue(!Roster.streams(2, Roster.STREAM_BUDGET + 1));
        assertTrue(Roster.streams(3, Roster.STREAM_BUDGET / 2));
        assertTrue(!Roster.streams(3, Roster.STREAM_BUDGET / 2 + 1));
        assertTrue(Roster.streams(1, Long.MAX_VALUE / 2), "one task: nobody to send it to");
    }

    @Test
    void env_hostsUpToTheLimit_areExported_longerOnesOmitted() {
        byte[] fits = Roster.json(
                new Card[] {new Card(0, "a".repeat(Roster.MAX_ENV), 1, 0, "10.0.0.0", "", Map.of(), Map.of())});
        assertEquals("a".repeat(Roster.MAX_ENV), Roster.env(fits).get("MUSTER_HOSTS"));
        byte[] over = Roster.json(new Card[] {
            new Card(0, "a".repeat(Roster.MAX_ENV + 1), 1, 0, "10.0.0.0", "", Map.of(), Map.of())
        });
        Map<String, String> env = Roster.env(over);
        assertNull(env.get("MUSTER_HOSTS"));
        assertTrue(env.get("MUSTER_HOSTS_OMITTED").startsWith("longer than " + Roster.MAX_ENV + " bytes"));
    }
}
