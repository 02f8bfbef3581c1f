package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The small waiter ({@code native/muster-wait.c}) on its own, against this test in rank 0's place: a real
 * waiter process holding a real TCP connection (opened by bash's {@code /dev/tcp} on descriptor 5, as muster run
 * hands it over), but the hand-off variables written here rather than by muster, so that what the waiter does
 * with each can be checked exactly. The whole path through muster is in the fault tests (Waiters).
 */
class WaiterIT {
    @TempDir
    Path tmp;

    /**
     * The waiter, started by bash with the connection to {@code port} on descriptor 5 and {@code vars}; {@code
     * program}: its path, then its argv (argv[0] first), as muster run passes them.
     */
    private Process start(int port, Map<String, String> vars, String... program) throws Exception {
        return start(Build.HOST, port, vars, program);
    }

    /**
     * The waiter as {@code scripts/build-native} builds it for each usual architecture (x86_64 and aarch64): for
     * this machine's, and for the other one with Debian's cross compiler, run here by qemu's user-mode emulator,
     * which passes the descriptors, the environment, the signals and the final {@code execve} of a native program
     * through to this kernel. No machine of the other architecture runs here; the emulator stands in for one.
     */
    enum Build {
        HOST,
        CROSS;

        /** The other usual architecture than this machine's. */
        static String crossArch() {
            return "aarch64".equals(System.getProperty("os.arch")) ? "x86_64" : "aarch64";
        }

        /** The words that start this build of the waiter. */
        List<String> command() {
            if (this == HOST) {
                Waiters.WAITER.require();
                return List.of(Waiters.binary().toString());
            }
            String arch = crossArch();
            Path bin = Cluster.root().resolve("target/native/linux-" + arch + "/muster-wait");
            Path sysroot = Path.of("/usr/" + arch + "-linux-gnu");
            Path qemu = Path.of("/usr/bin/qemu-" + arch);
            if (!Files.isExecutable(bin) || !Files.isExecutable(qemu) || !Files.isDirectory(sysroot)) {
                dev.muster.testing.Slurm.unavailable("the " + arch + " waiter needs " + bin + " (scripts/build-native"
                        + " with gcc-" + arch.replace('_', '-') + "-linux-gnu installed) and " + qemu + " (qemu-user)");
            }
            return List.of(qemu.toString(), "-L", sysroot.toString(), bin.toString());
        }
    }

    private Process start(Build build, int port, Map<String, String> vars, String... program) throws Exception {
        List<String> cmd = new ArrayList<>(
                List.of("bash", "-c", "exec 5<>/dev/tcp/127.0.0.1/" + port + " && exec \"$@\"", "bash"));
        cmd.addAll(build.command());
        cmd.addAll(List.of(program));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("MUSTER_WAIT_FD", "5");
        pb.environment().put("MUSTER_WAIT_PREFIX", "muster[3] ");
        pb.environment().putAll(vars);
        pb.redirectOutput(tmp.resolve("out").toFile())
                .redirectError(tmp.resolve("err").toFile());
        return pb.start();
    }

    private Map<String, String> vars(long deadlineNanos) {
        Map<String, String> v = new HashMap<>();
        v.put("MUSTER_WAIT_DEADLINE", Long.toString(deadlineNanos));
        v.put("MUSTER_WAIT_HEARD", Long.toString(System.nanoTime()));
        v.put("MUSTER_WAIT_DEPARTURE", tmp.resolve("departure").toString());
        v.put("MUSTER_WAIT_TRACE", tmp.resolve("trace").toString());
        v.put("MUSTER_WAIT_TRACE_LINE", "rank=3 size=4 node=n1 pid=1 arrive_us=5");
        // what resumes the JVM in muster: here a shell that says what it was told
        v.put("MUSTER_WAIT_JVM", "/bin/sh\n-c\necho \"resumed $MUSTER_WAIT_RESUME $MUSTER_WAIT_DETAIL\"\n");
        return v;
    }

    /** Whether process {@code pid} is the waiter and has a handler for SIGTERM (bit 15 - 1 of SigCgt). */
    private static boolean catchesTerm(long pid) {
        try {
            if (!Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe"))
                    .equals(Waiters.binary().toRealPath())) {
                return false;
            }
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("SigCgt:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << 14)) != 0;
                }
            }
        } catch (java.io.IOException e) {
            return false;
        }
        return false;
    }

    private String read(String name) throws Exception {
        Path p = tmp.resolve(name);
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Build.class)
    @Timeout(30)
    void release_appliesItsValuesAndTheKnownOnes_thenExecsTheProgramWithNothingOfItsOwn(Build build) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Map<String, String> v = vars(System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
            v.put("MUSTER_WAIT_SET", "MUSTER_RANK=3\nMUSTER_MASTER_ADDR=n9\nEQ=a\\eb\\nc\\\\d\n");
            v.put("MUSTER_WAIT_MAP", "master_addr=MUSTER_MASTER_ADDR\nmaster_addr=MASTER_ADDR");
            v.put("KEPT", "from the task");
            Process p = start(
                    build,
                    server.getLocalPort(),
                    v,
                    "/bin/sh",
                    "sh",
                    "-c",
                    "echo pid=$$; env; echo fds:; exec ls /proc/self/fd");
            try (Socket s = server.accept()) {
                OutputStream out = s.getOutputStream();
                out.write("\n\n".getBytes(StandardCharsets.US_ASCII)); // rank 0's heartbeats
                out.flush();
                out.write(("muster-outcome 1\nkind=release\nrank=0\ncode=0\nreason=\nmissing=\n"
                                + "d.master_addr=n1\nd.env.URL=http://h:1/x?a\\eb\nd.env.MULTI=one\\ntwo\nend\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the program ran and ended");
            }
            String out = read("out");
            assertEquals(0, p.exitValue(), out + read("err"));
            assertTrue(out.contains("pid=" + p.pid() + "\n"), "the program keeps the PID: " + out);
            // 0 1 2, and 3: the descriptor of ls's own listing; not 5, the connection
            assertTrue(
                    out.endsWith("\nfds:\n0\n1\n2\n3\n"), "no descriptor of the waiter's reaches the program: " + out);
            assertTrue(out.contains("\nMUSTER_MASTER_ADDR=n1\n"), out);
            assertTrue(out.contains("\nMASTER_ADDR=n1\n"), out);
            assertTrue(out.contains("\nMUSTER_RANK=3\n"), out);
            assertTrue(out.contains("\nEQ=a=b\nc\\d\n"), "escapes as the release's: " + out);
            assertTrue(out.contains("\nURL=http://h:1/x?a=b\n"), out);
            assertTrue(out.contains("\nMULTI=one\ntwo\n"), out);
            assertTrue(out.contains("\nKEPT=from the task\n"), out);
            assertFalse(out.contains("MUSTER_WAIT_"), "the hand-off variables are gone: " + out);
            assertTrue(Files.exists(tmp.resolve("departure")), "the departure file is made");
            String trace = read("trace");
            assertTrue(trace.matches("rank=3 size=4 node=n1 pid=1 arrive_us=5 release_us=\\d{16} via=tcp\n"), trace);
            assertEquals("", read("err"));
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Build.class)
    @Timeout(30)
    void rankZeroSilentPastTheDeadline_saysByeAndHandsTheEndBack(Build build) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            long start = System.nanoTime();
            Process p = start(
                    build,
                    server.getLocalPort(),
                    vars(start + TimeUnit.MILLISECONDS.toNanos(1500)),
                    "/bin/true",
                    "true");
            try (Socket s = server.accept()) {
                // rank 0 says nothing and keeps the connection open, as a frozen task or a node cut off does
                InputStream in = s.getInputStream();
                byte[] bye = in.readNBytes(4);
                assertEquals("bye\n", new String(bye, StandardCharsets.US_ASCII));
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            }
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(took >= 1400, "not before its deadline: " + took + " ms");
            String out = read("out");
            assertTrue(out.matches("resumed deadline \\d+\n"), out);
            long silent = Long.parseLong(out.trim().split(" ")[2]);
            assertTrue(silent >= TimeUnit.MILLISECONDS.toNanos(1400), "silent for the whole wait: " + silent);
            assertFalse(Files.exists(tmp.resolve("departure")), "no departure without a release");
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Build.class)
    @Timeout(30)
    void abortFromRankZero_orItsConnectionClosing_isHandedBackAsIs(Build build) throws Exception {
        String abort = "muster-outcome 1\nkind=abort\nrank=2\ncode=127\nreason=command not found\nmissing=\nend\n";
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process p = start(
                    build,
                    server.getLocalPort(),
                    vars(System.nanoTime() + TimeUnit.SECONDS.toNanos(20)),
                    "/bin/true",
                    "true");
            try (Socket s = server.accept()) {
                s.getOutputStream().write(("\n" + abort).getBytes(StandardCharsets.US_ASCII));
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            }
            assertEquals("resumed outcome " + abort + "\n", read("out"));
        }
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process p = start(
                    build,
                    server.getLocalPort(),
                    vars(System.nanoTime() + TimeUnit.SECONDS.toNanos(20)),
                    "/bin/true",
                    "true");
            try (Socket s = server.accept()) {
                s.getOutputStream().write("\nmuster-outc".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
            }
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            // as the JVM words it (TcpClient): the bytes after rank 0's heartbeats
            assertEquals("resumed closed connection closed after 11 bytes of the outcome\n", read("out"));
        }
    }

    @Test
    @Timeout(30)
    void termWhileWaiting_isHandedBackWithTheConnectionStillOpen() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Map<String, String> v = vars(System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
            // the resumed "JVM" proves the connection is still open by writing into it
            v.put("MUSTER_WAIT_JVM", "/bin/sh\n-c\necho \"resumed $MUSTER_WAIT_RESUME $MUSTER_WAIT_DETAIL\" >&5\n");
            Process p = start(server.getLocalPort(), v, "/bin/true", "true");
            try (Socket s = server.accept()) {
                s.getOutputStream().write('\n');
                s.getOutputStream().flush();
                // the waiter runs and catches TERM (before that, bash would die of it)
                Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> catchesTerm(p.pid()));
                new ProcessBuilder("kill", "-TERM", Long.toString(p.pid()))
                        .start()
                        .waitFor();
                String got = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertEquals("resumed signal TERM\n", got);
            }
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
    }

    /**
     * A TERM while waiting: the waiter claims the task's abort (the claim link, then the pre-created outcome file
     * filled) before it starts the JVM again, whose start would otherwise leave rank 0 0.1-0.3 s to release the step
     * without this task; with the claim already taken (rank 0 released first) it writes nothing. The "JVM" here
     * prints what it finds on disk when it starts.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @Timeout(30)
    void termWhileWaiting_claimsTheAbortBeforeTheJvmStartsAgain_unlessTheClaimIsTaken(boolean taken) throws Exception {
        Path step = Files.createDirectories(tmp.resolve("step"));
        Path outcome = Files.createFile(step.resolve("outcome"));
        Path claim = step.resolve("claim");
        if (taken) {
            Files.writeString(claim, "");
        }
        String abort = "muster-outcome 1\nkind=abort\nrank=3\ncode=143\nreason=rank 3 was stopped by SIGTERM while "
                + "waiting\nmissing=\nend\n";
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Map<String, String> v = vars(System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
            v.put("MUSTER_WAIT_CLAIM", claim.toString());
            v.put("MUSTER_WAIT_CLAIM_TEMP", step.resolve(".claim.3.1.").toString());
            v.put("MUSTER_WAIT_OUTCOME", outcome.toString());
            v.put("MUSTER_WAIT_ABORT_TERM", abort);
            v.put(
                    "MUSTER_WAIT_JVM",
                    "/bin/sh\n-c\necho \"resumed $MUSTER_WAIT_RESUME\"; cat " + outcome + "; ls -A " + step + "\n");
            Process p = start(server.getLocalPort(), v, "/bin/true", "true");
            try (Socket s = server.accept()) {
                Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> catchesTerm(p.pid()));
                new ProcessBuilder("kill", "-TERM", Long.toString(p.pid()))
                        .start()
                        .waitFor();
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
                assertTrue(s.isConnected());
            }
            String want = "resumed signal\n" + (taken ? "" : abort) + "claim\noutcome\n"; // no temp file left
            assertEquals(want, read("out"), read("err"));
            assertEquals(taken ? "" : abort, Files.readString(claim, StandardCharsets.UTF_8), "the claim's content");
        }
    }

    /**
     * A TERM that muster run caught into its pipe during the hand-off (MUSTER_WAIT_SIGFD) is the waiter's own: it
     * hands the signal back at once, before any outcome, and the pipe reaches nothing it execs. A newline follows
     * the TERM's byte (the here-string's): 10 is no signal the waiter stands for, and is passed over.
     */
    @Test
    @Timeout(30)
    void signalCaughtDuringTheHandOff_isHandedBackAsTheWaitersOwn_andItsPipeGoesNoFurther() throws Exception {
        Waiters.WAITER.require();
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Map<String, String> v = vars(System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
            v.put("MUSTER_WAIT_SIGFD", "7");
            v.put(
                    "MUSTER_WAIT_JVM",
                    "/bin/sh\n-c\necho \"resumed $MUSTER_WAIT_RESUME $MUSTER_WAIT_DETAIL"
                            + " [$MUSTER_WAIT_SIGFD]\"; echo $(ls /proc/self/fd)\n");
            ProcessBuilder pb = new ProcessBuilder(
                    "bash",
                    "-c",
                    "exec 5<>/dev/tcp/127.0.0.1/" + server.getLocalPort() + " && exec 7<<<$'\\017' && exec \"$@\"",
                    "bash",
                    Waiters.binary().toString(),
                    "/bin/true",
                    "true");
            pb.environment().put("MUSTER_WAIT_FD", "5");
            pb.environment().put("MUSTER_WAIT_PREFIX", "muster[3] ");
            pb.environment().putAll(v);
            pb.redirectOutput(tmp.resolve("out").toFile())
                    .redirectError(tmp.resolve("err").toFile());
            Process p = pb.start();
            try (Socket s = server.accept()) {
                // rank 0 says nothing: only the pipe can end this wait before the deadline
                assertTrue(p.waitFor(10, TimeUnit.SECONDS), "handed back at once");
                assertTrue(s.isConnected());
            }
            String[] out = read("out").split("\n");
            assertEquals("resumed signal TERM []", out[0], read("out") + read("err"));
            assertFalse(List.of(out[1].split(" ")).contains("7"), "the pipe is closed: " + out[1]);
            assertEquals("", read("err"));
        }
    }

    /** {@link #vars} for a waiter that sends the hello itself (WaiterHandOff#handOverBeforeHello). */
    private Map<String, String> helloVars() throws java.io.IOException {
        Files.createDirectories(tmp.resolve("arrival")); // its group's directory is the waiter's to make
        Map<String, String> v = vars(System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
        v.put("MUSTER_WAIT_HELLO", HELLO);
        v.put("MUSTER_WAIT_TRACE_LINE", "rank=3 size=4 node=n1 pid=1");
        v.put("MUSTER_WAIT_ARRIVAL", tmp.resolve("arrival/1/3").toString());
        v.put("MUSTER_WAIT_ARRIVAL_INFO", "host=n1 pid=1 time=t\n");
        v.put("MUSTER_WAIT_OUTCOME", tmp.resolve("outcome").toString());
        return v;
    }

    private static final String HELLO = "muster-hello 1 3 00112233445566778899aabbccddeeff\n";

    /** The hello line the server reads from {@code s}. */
    private static String helloFrom(Socket s) throws Exception {
        InputStream in = s.getInputStream();
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            b.append((char) c);
            if (c == '\n') {
                break;
            }
        }
        return b.toString();
    }

    /**
     * The waiter says the hello: the task arrives then (the trace's arrive_us), while rank 0 has not answered it is
     * counted by its arrival file, written after the first second, and after the ok it reads the release as before.
     */
    @Test
    @Timeout(30)
    void helloSentByTheWaiter_isItsArrival_theArrivalFileFollowsAnUnansweredSecond_thenTheRelease() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            long started = System.currentTimeMillis() * 1000;
            Process p = start(server.getLocalPort(), helloVars(), "/bin/sh", "sh", "-c", "echo ran");
            try (Socket s = server.accept()) {
                assertEquals(HELLO, helloFrom(s));
                assertFalse(Files.exists(tmp.resolve("arrival/1/3")), "no arrival file before an unanswered second");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(tmp.resolve("arrival/1/3")));
                assertEquals("host=n1 pid=1 time=t\n", read("arrival/1/3"));
                assertTrue(p.isAlive(), "still waiting for the ok");
                s.getOutputStream()
                        .write("ok\n\nmuster-outcome 1\nkind=release\nrank=0\ncode=0\nreason=\nmissing=\nend\n"
                                .getBytes(StandardCharsets.US_ASCII));
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            }
            assertEquals(0, p.exitValue(), read("err"));
            assertEquals("ran\n", read("out"));
            assertTrue(Files.exists(tmp.resolve("departure")));
            Map<String, String> t = new HashMap<>();
            for (String f : read("trace").trim().split(" ")) {
                t.put(f.substring(0, f.indexOf('=')), f.substring(f.indexOf('=') + 1));
            }
            assertTrue(read("trace").startsWith("rank=3 size=4 node=n1 pid=1 arrive_us="), read("trace"));
            long arrive = Long.parseLong(t.get("arrive_us"));
            assertTrue(arrive >= started && arrive <= Long.parseLong(t.get("release_us")), read("trace"));
            assertEquals("tcp", t.get("via"));
        }
    }

    /**
     * Rank 0 closes the connection instead of answering the hello: when the outcome is in the file (rank 0
     * decided and closed its listener), it is handed back as such; when nothing is decided, the JVM starts again
     * to wait anew, in itself, with none of the hand-off's variables but what says so.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    @Timeout(30)
    void helloNotAccepted_theOutcomeInTheFile_orTheJvmWaitsAnew(boolean decided) throws Exception {
        String abort = "muster-outcome 1\nkind=abort\nrank=2\ncode=127\nreason=command not found\nmissing=\nend\n";
        Files.writeString(tmp.resolve("outcome"), decided ? abort : "");
        Map<String, String> v = helloVars();
        v.put(
                "MUSTER_WAIT_JVM",
                "/bin/sh\n-c\necho \"resumed $MUSTER_WAIT_RESUME $MUSTER_WAIT_DETAIL\"; env | grep ^MUSTER_WAIT_ | cut -d\\e"
                        + " -f1 | sort\n");
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process p = start(server.getLocalPort(), v, "/bin/true", "true");
            try (Socket s = server.accept()) {
                assertEquals(HELLO, helloFrom(s));
            }
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        if (decided) {
            assertTrue(read("out").startsWith("resumed outcome " + abort + "\n"), read("out"));
            assertEquals("host=n1 pid=1 time=t\n", read("arrival/1/3"), "counted before the JVM ends the task");
        } else {
            assertEquals(
                    "resumed refused rank 0 closed the connection before accepting it\nMUSTER_WAIT_DETAIL\n"
                            + "MUSTER_WAIT_RESUME\n",
                    read("out"));
            assertFalse(Files.exists(tmp.resolve("arrival/1/3")), "the JVM that waits anew arrives itself");
        }
    }

    /**
     * Rank 0 counted the task by its arrival file (written after an unanswered second) and released the step by
     * the file: the waiter sees the release there and starts the program, as the JVM would.
     */
    @Test
    @Timeout(30)
    void helloUnanswered_aReleaseInTheFile_startsTheProgram() throws Exception {
        Files.writeString(tmp.resolve("outcome"), "");
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process p = start(server.getLocalPort(), helloVars(), "/bin/sh", "sh", "-c", "echo ran");
            try (Socket s = server.accept()) {
                assertEquals(HELLO, helloFrom(s));
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(tmp.resolve("arrival/1/3")));
                Files.writeString(
                        tmp.resolve("outcome"),
                        "muster-outcome 1\nkind=release\nrank=0\ncode=0\nreason=\nmissing=\nend\n");
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            }
            assertEquals(0, p.exitValue(), read("err"));
            assertEquals("ran\n", read("out"));
            assertTrue(
                    read("trace").matches("rank=3 size=4 node=n1 pid=1 arrive_us=\\d+ release_us=\\d+ via=file\n"),
                    read("trace"));
        }
    }
}
