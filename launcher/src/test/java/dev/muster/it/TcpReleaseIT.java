package dev.muster.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The TCP release path under a real srun on the local 4-node Slurm. */
class TcpReleaseIT {
    @TempDir
    Path tmp;

    /** Bash: waits (bounded) until rank 0 has published its endpoint in the step directory. */
    private static final String WAIT_FOR_ENDPOINT = "i=0; until [ -s \"$(ls -d $D/sync/*/ 2>/dev/null | head -1)"
            + "endpoint\" ] || [ $i -gt 2400 ]; do sleep 0.05; i=$((i+1)); done\n";

    private void assertAllReleased(SlurmSteps s, int n, String via) {
        List<Map<String, String>> trace = s.records("trace", "rank=");
        assertEquals(n, trace.size(), () -> "every task leaves a trace line; " + s.errs());
        for (Map<String, String> t : trace) {
            assertEquals(
                    via,
                    t.get("via"),
                    () -> "rank " + t.get("rank") + " released by " + t.get("via") + "; " + s.errs());
            assertTrue(Long.parseLong(t.get("release_us")) >= lastArrival(trace), "no release before the last arrival");
        }
    }

    private static long lastArrival(List<Map<String, String>> trace) {
        return trace.stream()
                .mapToLong(t -> Long.parseLong(t.get("arrive_us")))
                .max()
                .orElseThrow();
    }

    /**
     * Rank 0 arrives first here: a task that arrives before rank 0 listens has no endpoint to connect to yet, and
     * when rank 0 then finds every arrival file at once it decides at once, and such a task reads the release
     * from the file at its next poll (that order is what the benchmark measures).
     */
    @ParameterizedTest(name = "{0} tasks")
    @ValueSource(ints = {8, 32, 64})
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void everyTask_isReleasedOverTcp(int n) throws Exception {
        SlurmSteps s = new SlurmSteps(tmp);
        Path task = s.script("task.sh", "" + "if [ $r != 0 ]; then " + WAIT_FOR_ENDPOINT + "fi\n" + s.barrier("-v"));
        int rc = s.run(4, n, task, Duration.ofSeconds(200));
        assertEquals(0, rc, s::errs);
        assertAllReleased(s, n, "tcp");
    }

    /**
     * The last task to arrive hands its wait to the small waiter too: its waiter says the hello, so its arrival
     * comes after the JVM's teardown, and rank 0's release, which follows within a millisecond, finds it waiting
     * (docs/barrier.md, "The small waiter"). Rank 0's own wait is in its waiter as well. Before, the JVM said hello
     * and read the ok, and the release waited in the socket during the JVM's teardown.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void lastTaskToArrive_handsItsWaitOver_andItsWaiterReadsTheReleaseBehindTheOk() throws Exception {
        Waiters.WAITER.require();
        SlurmSteps s = new SlurmSteps(tmp);
        String run = SlurmSteps.JVM + " run --sync-dir " + s.sync + " --trace " + tmp.resolve("trace")
                + " -v -- sh -c 'echo \"rank=$MUSTER_RANK addr=$MUSTER_MASTER_ADDR\"' 2>> " + tmp + "/err.$r";
        Path task = s.script(
                "task.sh",
                ""
                        // rank 3 arrives last, once ranks 1 and 2 wait in their waiters
                        + "if [ $r = 3 ]; then i=0\n"
                        + "  until [ $(cat $D/err.1 $D/err.2 2>/dev/null | grep -c '" + Waiters.HANDED
                        + "') -ge 2 ] || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done\n"
                        + "fi\n"
                        + run);
        int rc = s.run(4, 4, task, Duration.ofSeconds(100));
        assertEquals(0, rc, s::errs);
        assertAllReleased(s, 4, "tcp");
        for (int r = 0; r < 4; r++) {
            int rank = r;
            assertTrue(
                    Waiters.WAITER.tookIt(s.read("err." + r)),
                    () -> "rank " + rank + " handed its wait to the waiter: " + s.errs());
        }
        // the same release values in every task (rank 0's from the release it encoded)
        String addr = s.read("out.0").replaceFirst("(?s)^rank=0 addr=(\\S+)\n$", "$1");
        assertTrue(!addr.isEmpty() && !addr.startsWith("rank="), () -> "rank 0's program: " + s.read("out.0"));
        for (int r = 1; r < 4; r++) {
            assertEquals("rank=" + r + " addr=" + addr + "\n", s.read("out." + r), s::errs);
        }
    }

    /** In the small waiter's case, the task is killed while the waiter (same PID) holds its wait. */
    @ParameterizedTest
    @EnumSource(Waiters.class)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void taskKilledAfterConnecting_everyOtherTaskFailsFast_namingIt(Waiters w) throws Exception {
        w.require();
        SlurmSteps s = new SlurmSteps(tmp);
        String connected = Waiters.CONNECTED;
        Path task = s.script(
                "task.sh",
                ""
                        + "if [ $r = 5 ]; then\n"
                        + "  " + s.wait(w, "-v") + " &\n"
                        + "  pid=$!; i=0\n"
                        // ranks 1..6 connected (or handed over) first: a kill before another rank's hand-off
                        // is read by that rank's JVM during the hand-off, as it must be, and it then never hands over
                        + "  until [ $(cat $D/err.1 $D/err.2 $D/err.3 $D/err.4 $D/err.5 $D/err.6 2>/dev/null"
                        + " | grep -c '" + connected
                        + "') -ge 6 ] || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done\n"
                        + "  date +%s%N > $D/killed; kill -9 $pid; wait; exit 0\n"
                        + "fi\n"
                        // rank 7 never arrives: only the lost connection can end the others' wait
                        + "if [ $r = 7 ]; then i=0; until [ -e $D/killed ] || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done; exit 0; fi\n"
                        + s.wait(w, "-v --timeout 90") + "\n" + s.end());
        s.run(4, 8, task, Duration.ofSeconds(110));
        long killed = Long.parseLong(s.read("killed").trim());
        List<Map<String, String>> ends = s.records("ends", "end ");
        assertEquals(6, ends.size(), s::errs);
        for (Map<String, String> e : ends) {
            int r = Integer.parseInt(e.get("rank"));
            assertEquals("76", e.get("rc"), () -> "rank " + r + ": " + s.errs());
            long after = Long.parseLong(e.get("ns")) - killed;
            // 76, not 75, says the lost connection ended the wait; and long before the 90 s timeout
            assertTrue(
                    after < TimeUnit.SECONDS.toNanos(90) / 3,
                    "rank " + r + " failed " + after / 1e6 + " ms after the kill; its timeout is 90 s");
            assertTrue(
                    s.read("err." + r).contains("rank 5"), () -> "rank " + r + " names rank 5: " + s.read("err." + r));
            // rank 0 too: with the waiter, its own (muster-wait.c, the leader) saw the connection close
            assertTrue(w.tookIt(s.read("err." + r)), () -> "rank " + r + " waited as " + w + ": " + s.errs());
        }
        assertTrue(s.read("err.5").contains(connected), s::errs);
    }

    /**
     * Rank 0 itself killed with SIGKILL once the others are connected over TCP: each of them sees the connection
     * close and aborts naming rank 0 (76), long before its 90 s timeout (rank 7 never arrives, so nothing else can
     * end the wait).
     */
    @ParameterizedTest
    @EnumSource(Waiters.class)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void rank0KilledAfterTheOthersConnected_everyOtherTaskFailsNamingRank0(Waiters w) throws Exception {
        w.require();
        SlurmSteps s = new SlurmSteps(tmp);
        String connected = Waiters.CONNECTED;
        Path task = s.script(
                "task.sh",
                ""
                        + "if [ $r = 0 ]; then\n"
                        + "  " + s.barrier("-v --timeout 90") + " &\n"
                        + "  pid=$!; i=0\n"
                        // ranks 1..6 connected (their verbose logs say so)
                        + "  until [ $(cat $D/err.1 $D/err.2 $D/err.3 $D/err.4 $D/err.5 $D/err.6 2>/dev/null"
                        + " | grep -c '" + connected
                        + "') -ge 6 ] || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done\n"
                        + "  date +%s%N > $D/killed; kill -9 $pid; wait; exit 0\n"
                        + "fi\n"
                        + "if [ $r = 7 ]; then i=0; until [ -e $D/killed ] || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done; exit 0; fi\n"
                        + s.wait(w, "-v --timeout 90") + "\n" + s.end());
        s.run(4, 8, task, Duration.ofSeconds(110));
        long killed = Long.parseLong(s.read("killed").trim());
        List<Map<String, String>> ends = s.records("ends", "end ");
        assertEquals(6, ends.size(), s::errs);
        for (Map<String, String> e : ends) {
            int r = Integer.parseInt(e.get("rank"));
            assertEquals("76", e.get("rc"), () -> "rank " + r + ": " + s.errs());
            assertTrue(
                    s.read("err." + r).contains("connected to rank 0"),
                    () -> "rank " + r + " waited over TCP: " + s.read("err." + r));
            long after = Long.parseLong(e.get("ns")) - killed;
            assertTrue(
                    after < TimeUnit.SECONDS.toNanos(90) / 3,
                    "rank " + r + " failed " + after / 1e6 + " ms after the kill; its timeout is 90 s");
            assertTrue(
                    s.read("err." + r).contains("rank 0"), () -> "rank " + r + " names rank 0: " + s.read("err." + r));
            assertTrue(w.tookIt(s.read("err." + r)), () -> "rank " + r + " waited as " + w + ": " + s.errs());
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void wrongBindAddress_rank0CannotListen_theBarrierCompletesByFile() throws Exception {
        SlurmSteps s = new SlurmSteps(tmp);
        // 192.0.2.1 (TEST-NET-1) is no address of this machine: bind() fails, rank 0 says so and publishes "none".
        // The others arrive once it is published: arrived before, they could complete the step by files before rank
        // 0's listener thread ever ran, and rank 0 exec'd before it had found anything to say.
        Path task = s.script(
                "task.sh",
                "if [ $r != 0 ]; then " + WAIT_FOR_ENDPOINT + "fi\n" + s.barrier("--bind-address 192.0.2.1"));
        assertEquals(0, s.run(4, 8, task, Duration.ofSeconds(100)), s::errs);
        assertAllReleased(s, 8, "file");
        assertTrue(s.read("err.0").contains("cannot listen for the TCP release on --bind-address 192.0.2.1"), s::errs);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void tasksThatCannotConnect_sayItOnce_andTheBarrierCompletesByFile() throws Exception {
        SlurmSteps s = new SlurmSteps(tmp);
        // every rank but 0 runs in its own network namespace: connects to rank 0 fail (network unreachable)
        // they start once rank 0 listens: a task that finds the outcome decided before it read the endpoint never
        // tries to connect, and has nothing to say
        Path task = s.script(
                "task.sh",
                ""
                        + "if [ $r = 0 ]; then " + s.barrier("") + "; exit $?; fi\n"
                        + WAIT_FOR_ENDPOINT
                        + "exec unshare -n -- bash -c '" + s.barrier("").replace("$r", "'$r'") + "'");
        assertEquals(0, s.run(4, 8, task, Duration.ofSeconds(100)), s::errs);
        List<Map<String, String>> trace = s.records("trace", "rank=");
        assertEquals(8, trace.size(), s::errs);
        for (int r = 1; r < 8; r++) {
            String err = s.read("err." + r);
            assertEquals(1, err.split("cannot reach rank 0", -1).length - 1, "rank " + r + " says so once: " + err);
        }
        trace.forEach(t -> assertEquals("file", t.get("via"), s::errs));
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void thousandWrongTokens_duringA64TaskBarrier_doNotStopTheRelease() throws Exception {
        SlurmSteps s = new SlurmSteps(tmp);
        Path task = s.script(
                "task.sh",
                ""
                        + "if [ $r = 63 ]; then i=0; until [ -e $D/go ] || [ $i -gt 3000 ]; do sleep 0.05; i=$((i+1)); done; fi\n"
                        + s.barrier("-v") + "\n" + s.end());
        Process srun = s.start(4, 64, task);
        Path endpoint = await().atMost(Duration.ofSeconds(150))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> endpointFile(s.sync), Optional::isPresent)
                .orElseThrow();
        int port = Integer.parseInt(Files.readString(endpoint).replaceAll("(?s).*port=(\\d+).*", "$1"));
        // rank 0's address as the endpoint names it: loopback on a one-host cluster, its node's on the rig
        InetAddress host = InetAddress.getByName(Files.readString(endpoint).replaceAll("(?s).*host=(\\S+).*", "$1"));
        // one flood while the other 62 connect (they must get in past it), ...
        java.util.concurrent.CompletableFuture<Integer> early =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> flood(host, port, 1000));
        await().atMost(Duration.ofSeconds(150))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> countInErrs(s, "connected to rank 0") >= 62);
        int sent = early.get(60, TimeUnit.SECONDS);
        // ... and one while rank 0 waits for rank 63 alone
        sent += flood(host, port, 1000);
        Files.createFile(s.dir.resolve("go"));
        assertEquals(0, s.finish(srun, Duration.ofSeconds(150)), s::errs);
        assertEquals(64, s.records("ends", "end ").size(), s::errs);
        assertAllReleased(s, 64, "tcp");
        // rank 0 counted and refused every one of them (none was taken for a task)
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("refused (\\d+) TCP connections")
                .matcher(s.read("err.0"));
        assertTrue(m.find(), () -> "rank 0 reports the refused connections: " + s.read("err.0"));
        assertTrue(Integer.parseInt(m.group(1)) >= sent, "refused " + m.group(1) + " of " + sent);
    }

    private static Optional<Path> endpointFile(Path sync) throws IOException {
        try (Stream<Path> st = Files.list(sync)) {
            return st.map(d -> d.resolve("endpoint"))
                    .filter(p -> {
                        try {
                            return Files.size(p) > 0;
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .findFirst();
        }
    }

    private static long countInErrs(SlurmSteps s, String needle) throws IOException {
        try (Stream<Path> st = Files.list(s.dir)) {
            return st.filter(p -> p.getFileName().toString().startsWith("err."))
                    .filter(p -> s.read(p.getFileName().toString()).contains(needle))
                    .count();
        }
    }

    /** {@code count} connections in waves of 100 open at once, each with a wrong token; returns how many were made. */
    private static int flood(InetAddress host, int port, int count) {
        byte[] hello = ("muster-hello 1 63 " + "00".repeat(16) + "\n").getBytes(StandardCharsets.US_ASCII);
        int done = 0;
        while (done < count) {
            List<Socket> wave = new ArrayList<>();
            try {
                for (int i = 0; i < 100 && done < count; i++, done++) {
                    Socket sock = new Socket(host, port);
                    wave.add(sock);
                    OutputStream out = sock.getOutputStream();
                    out.write(hello);
                    out.flush();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("flood connection " + done, e);
            } finally {
                for (Socket sock : wave) {
                    try {
                        sock.close();
                    } catch (IOException e) {
                        // closing anyway
                    }
                }
            }
        }
        return done;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void waitingTasks_makeNoListing_andAtMostOneOpenPerPoll_fileAndTcp() throws Exception {
        for (String mode : new String[] {"--no-tcp", ""}) {
            Path dir = Files.createDirectory(tmp.resolve("strace" + (mode.isEmpty() ? "-tcp" : "-file")));
            assertEquals(
                    "node-local",
                    dev.muster.barrier.MountInfo.of(dir).scope(),
                    "the four test nodes share "
                            + "one host, so the test directory must be on a node-local file system: "
                            + dev.muster.barrier.MountInfo.of(dir));
            SlurmSteps s = new SlurmSteps(dir);
            // ranks 1-6 wait; once each has arrived and settled, strace counts its syscalls for 2 s; rank 7 then
            // arrives and releases everybody
            Path task = s.script(
                    "task.sh",
                    ""
                            + "if [ $r = 7 ]; then i=0; until [ $(ls $D/traced.* 2>/dev/null | wc -l) -ge 6 ] || [ $i -gt 1500 ]; do sleep 0.05; i=$((i+1)); done; fi\n"
                            + s.barrier(mode + " --poll-max 100ms") + " &\n"
                            + "pid=$!\n"
                            + "if [ $r != 0 ] && [ $r != 7 ]; then\n"
                            + "  i=0; until ls $D/sync/*/arrival/*/$r >/dev/null 2>&1 || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done\n"
                            + "  sleep 1\n"
                            + "  args=(); for t in /proc/$pid/task/*; do args+=(-p ${t##*/}); done\n"
                            + "  timeout -s INT 2 strace -c -o $D/strace.$r \"${args[@]}\" 2>/dev/null\n"
                            + "  touch $D/traced.$r\n"
                            + "fi\n"
                            + "wait $pid\n" + s.end());
            assertEquals(0, s.run(4, 8, task, Duration.ofSeconds(100)), s::errs);
            for (int r = 1; r <= 6; r++) {
                Map<String, Long> calls = StraceCounts.parse(s.read("strace." + r));
                assertTrue(!calls.isEmpty(), "strace of rank " + r + " counted nothing: " + s.read("strace." + r));
                long listings = calls.getOrDefault("getdents64", 0L) + calls.getOrDefault("getdents", 0L);
                long opens = calls.getOrDefault("openat", 0L) + calls.getOrDefault("open", 0L);
                long stats = StraceCounts.stats(calls);
                String what = (mode.isEmpty() ? "tcp" : "file") + " rank " + r + " " + calls;
                assertEquals(0, listings, "no directory listing: " + what);
                if (mode.isEmpty()) {
                    assertEquals(0, opens + stats, "no file-system call while connected: " + what);
                } else {
                    // the test's directory is node-local, where a waiting task reads a held descriptor of the
                    // outcome file (pread64) and opens it afresh only every 2 s: <= 2 opens in the 2 s counted, and
                    // still >= 10 polls (>= 50 ms apart at the 100 ms ceiling: about 26 in 2 s)
                    long reads = calls.getOrDefault("pread64", 0L);
                    assertTrue(opens <= 2, "no open per poll on a node-local directory: " + what);
                    assertTrue(stats <= opens, "at most one stat per open: " + what);
                    assertTrue(reads >= 10 && reads <= 42, "one pread per poll, still polling: " + what);
                }
            }
        }
    }
}
