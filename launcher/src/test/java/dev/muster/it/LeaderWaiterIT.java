package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rank 0's wait in the small waiter ({@code native/muster-wait.c}, the leader) on its own, against this test in
 * the other ranks' places: a real waiter process holding a real listening socket (opened by python3 and inherited,
 * as muster run hands its listener over), real connections, real step files, and the hand-off variables written
 * here, so that each rule of TcpLeader it repeats can be checked exactly. The whole path through muster is in the
 * fault tests (Waiters), whose rank 0 waits there too.
 */
class LeaderWaiterIT {
    private static final String TOKEN = "00112233445566778899aabbccddeeff";
    private static final String RELEASE =
            "muster-outcome 1\nkind=release\nrank=0\ncode=0\nreason=\nmissing=\nd.env.FROM_RELEASE=a\\eb\nend\n";

    @TempDir
    Path tmp;

    private Path step;

    @BeforeEach
    void stepFiles() throws Exception {
        Waiters.WAITER.require();
        step = tmp.resolve("step");
        Files.createDirectories(step.resolve("arrival/0"));
        Files.createDirectories(step.resolve("departure"));
        Files.writeString(step.resolve("outcome"), "");
    }

    /** The leader for a step of {@code size} with {@code vars} over the defaults; its listener's port once open. */
    private Process start(int size, Map<String, String> vars, String... program) throws Exception {
        Map<String, String> v = new HashMap<>();
        v.put("MUSTER_WAIT_SIZE", Integer.toString(size));
        v.put("MUSTER_WAIT_TOKEN", TOKEN);
        v.put("MUSTER_WAIT_RELEASE", RELEASE);
        v.put("MUSTER_WAIT_ARRIVALS", step.resolve("arrival").toString());
        v.put("MUSTER_WAIT_WIDTH", Integer.toString((int) Math.ceil(Math.sqrt(size))));
        v.put("MUSTER_WAIT_POLICY", "open");
        v.put("MUSTER_WAIT_POLL_MAX", Long.toString(TimeUnit.MILLISECONDS.toNanos(50)));
        v.put("MUSTER_WAIT_DEADLINE", Long.toString(System.nanoTime() + TimeUnit.SECONDS.toNanos(20)));
        v.put("MUSTER_WAIT_PROGRESS", Long.toString(System.nanoTime() + TimeUnit.SECONDS.toNanos(60)));
        v.put("MUSTER_WAIT_CLAIM", step.resolve("claim").toString());
        v.put("MUSTER_WAIT_CLAIM_TEMP", step.resolve(".claim.0.1.").toString());
        v.put("MUSTER_WAIT_OUTCOME", step.resolve("outcome").toString());
        v.put(
                "MUSTER_WAIT_ABORT_TERM",
                "muster-outcome 1\nkind=abort\nrank=0\ncode=143\nreason=stopped\nmissing=\nend\n");
        v.put("MUSTER_WAIT_DEPARTURE", step.resolve("departure/0").toString());
        v.put("MUSTER_WAIT_TRACE", tmp.resolve("trace").toString());
        v.put("MUSTER_WAIT_TRACE_LINE", "rank=0 size=" + size + " node=n1 pid=1 arrive_us=5");
        v.put("MUSTER_WAIT_PREFIX", "muster[0] ");
        // what resumes the JVM in muster: here a shell that says what it was told
        v.put("MUSTER_WAIT_JVM", "/bin/sh\n-c\necho \"resumed $MUSTER_WAIT_RESUME $MUSTER_WAIT_DETAIL\"\n");
        v.putAll(vars);
        String listen = "import os, socket, sys\n"
                + "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(64); os.set_inheritable(s.fileno(), True)\n"
                + "os.environ['MUSTER_WAIT_LISTEN'] = str(s.fileno())\n"
                + "open(sys.argv[1] + '.tmp', 'w').write(str(s.getsockname()[1])); os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
                + "os.execv(sys.argv[2], sys.argv[2:])\n";
        List<String> cmd = new ArrayList<>(List.of(
                "python3",
                "-c",
                listen,
                tmp.resolve("port").toString(),
                Waiters.binary().toString()));
        cmd.addAll(List.of(program));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(v);
        pb.redirectOutput(tmp.resolve("out").toFile())
                .redirectError(tmp.resolve("err").toFile());
        Process p = pb.start();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(tmp.resolve("port")));
        return p;
    }

    private int port() throws Exception {
        return Integer.parseInt(Files.readString(tmp.resolve("port")).trim());
    }

    /** A connection that has sent {@code bytes}. */
    private Socket send(String bytes) throws Exception {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port());
        s.setSoTimeout(15_000);
        s.getOutputStream().write(bytes.getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    private static String hello(int rank) {
        return "muster-hello 1 " + rank + " " + TOKEN + "\n";
    }

    /** What {@code s} receives up to and with the outcome's end line (or its close), the beats dropped. */
    private static String outcome(Socket s) throws Exception {
        InputStream in = s.getInputStream();
        StringBuilder b = new StringBuilder();
        int c;
        while (!b.toString().endsWith("\nend\n") && (c = in.read()) >= 0) {
            if (c != '\n' || b.length() > 0) {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    private String read(Path p) throws Exception {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }

    @Test
    @Timeout(30)
    void everyOtherRankSaysHello_strangersAreClosed_theReleaseIsClaimedSentToAll_andTheProgramStarts()
            throws Exception {
        Process p = start(3, Map.of(), "/bin/sh", "sh", "-c", "echo \"ran $FROM_RELEASE\"");
        try (Socket wrongToken = send("muster-hello 1 1 ffffffffffffffffffffffffffffffff\n");
                Socket noLine = send("x".repeat(200));
                Socket rank1 = send(hello(1))) {
            assertEquals(-1, wrongToken.getInputStream().read(), "a wrong token is closed unanswered");
            assertEquals(-1, noLine.getInputStream().read(), "a line longer than a hello is closed unanswered");
            assertEquals("ok\n", new String(rank1.getInputStream().readNBytes(3), StandardCharsets.US_ASCII));
            assertTrue(p.isAlive(), "rank 2 has not arrived");
            try (Socket rank2 = send(hello(2))) {
                assertEquals("ok\n" + RELEASE, outcome(rank2));
            }
            assertEquals(RELEASE, outcome(rank1));
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        assertEquals(0, p.exitValue(), read(tmp.resolve("err")));
        assertEquals("ran a=b\n", read(tmp.resolve("out")));
        assertEquals(RELEASE, read(step.resolve("outcome")));
        assertEquals(RELEASE, read(step.resolve("claim")));
        assertTrue(Files.exists(step.resolve("departure/0")));
        assertTrue(
                read(tmp.resolve("trace")).matches("rank=0 size=3 node=n1 pid=1 arrive_us=5 release_us=\\d+ via=tcp\n"),
                read(tmp.resolve("trace")));
        assertEquals("", read(tmp.resolve("err")));
    }

    /** A connection that closes before the release without a bye is a lost task: the abort names it. */
    @Test
    @Timeout(30)
    void aConnectionClosedWithoutBye_abortsNamingItsRank_sentToTheOthers_andHandedBack() throws Exception {
        Process p = start(4, Map.of(), "/bin/true", "true");
        String abort = "muster-outcome 1\nkind=abort\nrank=1\ncode=0\nreason=rank 1's connection to rank 0 closed"
                + " before the release (the task was killed, or its node failed)\nmissing=\nend\n";
        try (Socket rank2 = send(hello(2))) {
            assertEquals("ok\n", new String(rank2.getInputStream().readNBytes(3), StandardCharsets.US_ASCII));
            try (Socket rank1 = send(hello(1))) {
                assertEquals("ok\n", new String(rank1.getInputStream().readNBytes(3), StandardCharsets.US_ASCII));
            }
            assertEquals(abort, outcome(rank2));
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        assertEquals(abort, read(step.resolve("outcome")));
        assertEquals("resumed outcome " + abort + "\n", read(tmp.resolve("out")));
        assertFalse(Files.exists(step.resolve("departure/0")), "no departure without a release");
    }

    /**
     * At its deadline rank 0 decides the timeout naming who is missing: a rank that said hello and bye together
     * (it gave up unanswered) and one counted by its arrival file are not. Meanwhile a beat every second, and a
     * progress line.
     */
    @Test
    @Timeout(30)
    void atTheDeadline_aTimeoutNamingTheMissing_aByeAndAnArrivalFileCount_beatsAndProgressMeanwhile() throws Exception {
        // 5 tasks: groups of 3 (arrival/<rank / 3>/<rank>)
        Files.createDirectories(step.resolve("arrival/1"));
        Files.writeString(step.resolve("arrival/1/4"), "host=n2 pid=9 time=t\n");
        Process p = start(
                5,
                Map.of(
                        "MUSTER_WAIT_DEADLINE",
                        Long.toString(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500)),
                        "MUSTER_WAIT_PROGRESS",
                        Long.toString(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1200)),
                        "MUSTER_WAIT_EVERY",
                        Long.toString(TimeUnit.SECONDS.toNanos(30))),
                "/bin/true",
                "true");
        String timeout = "muster-outcome 1\nkind=timeout\nrank=0\ncode=0\nreason=\nmissing=3\nend\n";
        try (Socket gaveUp = send(hello(2) + "bye\n");
                Socket rank1 = send(hello(1))) {
            assertEquals(-1, gaveUp.getInputStream().read(), "closed after its bye");
            InputStream in = rank1.getInputStream();
            assertEquals("ok\n", new String(in.readNBytes(3), StandardCharsets.US_ASCII));
            assertEquals('\n', in.read(), "a beat within the first second and a half");
            assertEquals(timeout, outcome(rank1));
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        assertEquals(timeout, read(step.resolve("outcome")));
        assertEquals("resumed outcome " + timeout + "\n", read(tmp.resolve("out")));
        assertEquals("muster[0] 4/5 arrived (1 by TCP), waiting for 3 (1 s left)\n", read(tmp.resolve("err")));
    }

    /** An outcome another task decided (here an abort) is read from the file, sent on and handed back. */
    @Test
    @Timeout(30)
    void anOutcomeInTheFile_isSentToTheConnected_andHandedBack() throws Exception {
        Process p = start(3, Map.of(), "/bin/true", "true");
        String abort = "muster-outcome 1\nkind=abort\nrank=2\ncode=127\nreason=command not found\nmissing=\nend\n";
        try (Socket rank1 = send(hello(1))) {
            assertEquals("ok\n", new String(rank1.getInputStream().readNBytes(3), StandardCharsets.US_ASCII));
            Files.writeString(step.resolve("outcome"), abort);
            assertEquals(abort, outcome(rank1));
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        assertEquals("resumed outcome " + abort + "\n", read(tmp.resolve("out")));
    }

    /**
     * SIGTERM while waiting: rank 0's abort is claimed before the JVM starts again (which then dies of the signal,
     * TcpBarrier), and the connections close with that exec, so the others read the abort from the file.
     */
    @Test
    @Timeout(30)
    void term_claimsRankZerosAbort_thenHandsTheSignalBack() throws Exception {
        Process p = start(3, Map.of(), "/bin/true", "true");
        try (Socket rank1 = send(hello(1))) {
            assertEquals("ok\n", new String(rank1.getInputStream().readNBytes(3), StandardCharsets.US_ASCII));
            p.destroy(); // SIGTERM to python3's pid, which is the waiter's: python3 exec'd it
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            assertEquals("", outcome(rank1), "closed, nothing sent: the abort is in the file");
        }
        String abort = "muster-outcome 1\nkind=abort\nrank=0\ncode=143\nreason=stopped\nmissing=\nend\n";
        assertEquals(abort, read(step.resolve("outcome")));
        assertEquals(abort, read(step.resolve("claim")));
        assertEquals("resumed signal TERM\n", read(tmp.resolve("out")));
    }
}
