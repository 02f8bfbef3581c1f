package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a waiting task polls the outcome and endpoint files (docs/barrier.md#shared-file-systems-and-client-caches):
 * on this machine's node-local file system the first poll that finds the file empty keeps it open and later polls
 * pread() it, reopening it every {@link PolledFile#REOPEN_NANOS}; forced to open-per-poll (as on NFS with attribute
 * caching) nothing is held between polls. Real files, a manual clock; open descriptors read from /proc/self/fd.
 */
@Timeout(30)
class PolledFileTest {
    @TempDir
    Path root;

    private final ManualClock clock = new ManualClock();
    private StepFiles files;
    private Path dir;

    @BeforeEach
    void step() throws IOException {
        files = new StepFiles(root, "k", 2);
        files.create(0);
        dir = files.dir.toRealPath();
    }

    private PolledFile outcomePoll(boolean byOpen) {
        PolledFile.Policy policy = new PolledFile.Policy(files.dir);
        if (byOpen) {
            policy.byOpenOnly();
        }
        return new PolledFile(files.outcomeFile, clock, policy);
    }

    private static byte[] release(String v) {
        return Outcome.release(0, Map.of("k", v)).encode();
    }

    /** Puts {@code bytes} under the outcome's name as a new file (a new inode), as a re-created step would. */
    private void replaceOutcome(byte[] bytes) throws IOException {
        Path fresh = Files.write(files.dir.resolve("outcome.new"), bytes);
        Files.move(fresh, files.outcomeFile, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A release whose encoding has exactly {@code n} bytes. */
    private static byte[] releaseOf(int n) {
        int base = release("").length;
        byte[] b = release("x".repeat(n - base));
        assertEquals(n, b.length);
        return b;
    }

    @Test
    void emptyFile_isHeldBetweenPolls_andReleasedOnceFilled() throws IOException {
        PolledFile p = outcomePoll(false);
        assertNull(p.outcome());
        assertEquals(1, Descriptors.under(dir), "held after the first empty poll");
        clock.advance(Duration.ofMillis(500));
        assertNull(p.outcome());
        assertEquals(1, Descriptors.under(dir), "the same descriptor, read again");
        StepFiles.fill(files.outcomeFile, release("v"));
        assertEquals("v", p.outcome().data().get("k"));
        assertEquals(0, Descriptors.under(dir), "filled: nothing more to poll");
        assertEquals("v", p.outcome().data().get("k"), "read again, by a fresh open");
        assertEquals(0, Descriptors.under(dir));
    }

    @Test
    void heldFile_replacedUnderItsName_isSeenAtTheReopen_andNotBefore() throws IOException {
        PolledFile p = outcomePoll(false);
        assertNull(p.outcome());
        replaceOutcome(release("new"));
        clock.advance(Duration.ofNanos(PolledFile.REOPEN_NANOS - 1));
        assertNull(p.outcome(), "the held descriptor reads the file it opened, without a metadata call");
        clock.advance(Duration.ofNanos(1));
        assertEquals("new", p.outcome().data().get("k"));
        assertEquals(0, Descriptors.under(dir), "neither the old file nor the new one is held");
    }

    @Test
    void reopen_closesTheDescriptorItReplaces() throws IOException {
        PolledFile p = outcomePoll(false);
        assertNull(p.outcome());
        for (int i = 1; i <= 3; i++) {
            clock.advance(Duration.ofNanos(PolledFile.REOPEN_NANOS));
            assertNull(p.outcome());
            assertEquals(1, Descriptors.under(dir), "after reopen " + i);
        }
        p.close();
        assertEquals(0, Descriptors.under(dir), "closed");
    }

    @Test
    void byOpenOnly_holdsNothing_andSeesAReplacedFileAtTheNextPoll() throws IOException {
        PolledFile p = outcomePoll(true);
        assertNull(p.outcome());
        assertEquals(0, Descriptors.under(dir));
        replaceOutcome(release("at-once"));
        assertEquals("at-once", p.outcome().data().get("k"));
        assertEquals(0, Descriptors.under(dir));
    }

    @Test
    void shortRead_withoutItsEndLine_isReadAgain() throws IOException {
        for (boolean byOpen : new boolean[] {false, true}) {
            byte[] whole = release("whole");
            replaceOutcome(java.util.Arrays.copyOf(whole, whole.length - 2));
            PolledFile p = outcomePoll(byOpen);
            assertNull(p.outcome(), "no end line yet");
            StepFiles.fill(files.outcomeFile, whole);
            assertEquals("whole", p.outcome().data().get("k"), byOpen ? "by open" : "held");
        }
    }

    @Test
    void outcomeLargerThanTheFirstBuffer_isReadWhole() throws IOException {
        for (boolean byOpen : new boolean[] {false, true}) {
            replaceOutcome(new byte[0]);
            PolledFile p = outcomePoll(byOpen);
            assertNull(p.outcome());
            String big = "y".repeat(200_000);
            replaceOutcome(release(big));
            clock.advance(Duration.ofNanos(PolledFile.REOPEN_NANOS));
            assertTrue(big.equals(p.outcome().data().get("k")), byOpen ? "by open" : "held");
        }
    }

    @Test
    void outcomeOfTheLimit_isReadByOpen_andOneByteMore_isRefusedEitherWay() throws IOException {
        replaceOutcome(releaseOf(StepFiles.MAX_OUTCOME));
        assertEquals(Outcome.Kind.RELEASE, outcomePoll(true).outcome().kind());
        replaceOutcome(releaseOf(StepFiles.MAX_OUTCOME + 1));
        for (boolean byOpen : new boolean[] {false, true}) {
            MusterException e = assertThrows(
                    MusterException.class, () -> outcomePoll(byOpen).outcome());
            assertEquals(ExitCodes.CORRUPT, e.status());
            assertTrue(
                    e.getMessage().contains("is larger than " + StepFiles.MAX_OUTCOME + " bytes; remove " + files.dir),
                    e.getMessage());
        }
    }

    /**
     * A bug: a poll of a held descriptor called an outcome of exactly {@link StepFiles#MAX_OUTCOME} bytes "larger
     * than" the limit (its buffer was full, and it never looked for the end of the file), while a poll by open()
     * read it; the limit is the largest outcome muster reads.
     */
    @Test
    void heldOutcomeOfExactlyTheLimit_isRead_asByOpen() throws IOException {
        PolledFile p = outcomePoll(false);
        assertNull(p.outcome());
        assertEquals(1, Descriptors.under(dir), "held");
        StepFiles.fill(files.outcomeFile, releaseOf(StepFiles.MAX_OUTCOME));
        assertEquals(Outcome.Kind.RELEASE, p.outcome().kind());
    }

    @Test
    void missingFile_isNotYet_andFoundWhenItComes() throws IOException {
        Files.delete(files.outcomeFile);
        for (boolean byOpen : new boolean[] {false, true}) {
            assertNull(outcomePoll(byOpen).outcome());
        }
        PolledFile p = outcomePoll(false);
        assertNull(p.outcome());
        assertEquals(0, Descriptors.under(dir));
        Files.write(files.outcomeFile, release("late"));
        assertEquals("late", p.outcome().data().get("k"));
    }

    @Test
    void unreadableForNow_isNotYet_andReadOnceReadable() throws IOException {
        // open() fails with ENOTDIR while a plain file stands where the step directory belongs (a sweep racing a
        // re-creation): the poll goes on, the deadline decides
        Path plain = Files.writeString(root.resolve("plain"), "");
        Path file = plain.resolve(StepFiles.OUTCOME);
        for (boolean byOpen : new boolean[] {false, true}) {
            PolledFile.Policy policy = new PolledFile.Policy(plain);
            if (byOpen) {
                policy.byOpenOnly();
            }
            PolledFile p = new PolledFile(file, clock, policy);
            assertNull(p.outcome());
            Files.delete(plain);
            Files.createDirectory(plain);
            Files.write(file, release("readable"));
            assertEquals("readable", p.outcome().data().get("k"), byOpen ? "by open" : "held");
            Files.delete(file);
            Files.delete(plain);
            Files.writeString(plain, "");
        }
    }

    @Test
    void directorySwappedInUnderTheName_isCorrupt_andNothingStaysOpen() throws IOException {
        PolledFile p = outcomePoll(false);
        assertNull(p.outcome());
        Files.delete(files.outcomeFile);
        Files.createDirectory(files.outcomeFile);
        clock.advance(Duration.ofNanos(PolledFile.REOPEN_NANOS));
        MusterException e = assertThrows(MusterException.class, p::outcome);
        assertEquals(ExitCodes.CORRUPT, e.status());
        assertTrue(e.getMessage().contains("is a directory, not a regular file"), e.getMessage());
        assertEquals(0, Descriptors.under(dir));
        MusterException byOpen =
                assertThrows(MusterException.class, () -> outcomePoll(true).outcome());
        assertTrue(byOpen.getMessage().contains("is a directory, not a regular file"), byOpen.getMessage());
    }

    @Test
    void fifoSwappedInUnderTheName_isCorrupt_withoutBlockingThePoll() throws Exception {
        Files.delete(files.outcomeFile);
        Process mk = new ProcessBuilder("mkfifo", files.outcomeFile.toString()).start();
        assertTrue(mk.waitFor(20, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo");
        for (boolean byOpen : new boolean[] {false, true}) {
            MusterException e = assertThrows(
                    MusterException.class, () -> outcomePoll(byOpen).outcome());
            assertEquals(ExitCodes.CORRUPT, e.status());
            assertTrue(e.getMessage().contains("FIFO"), e.getMessage());
        }
        assertEquals(0, Descriptors.under(dir));
    }

    @Test
    void endpoint_isPolledLikeTheOutcome() throws IOException {
        StepPolls polls = new StepPolls(files, clock);
        assertNull(polls.endpoint());
        byte[] token = new byte[TcpEndpoint.TOKEN_BYTES];
        token[3] = 7;
        polls.publishEndpoint(TcpEndpoint.listening("10.1.2.3", 4567, token));
        TcpEndpoint ep = polls.endpoint();
        assertEquals("10.1.2.3", ep.host());
        assertEquals(4567, ep.port());
        assertEquals(7, ep.token()[3]);
        assertEquals(
                "rw-------",
                java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(files.endpointFile)));
    }

    @Test
    void stepPollsClosed_holdNothing_andLaterPollsOpenAndClose() throws IOException {
        StepPolls polls = new StepPolls(files, clock);
        assertNull(polls.outcome());
        assertNull(polls.endpoint());
        assertEquals(2, Descriptors.under(dir), "both empty files held");
        polls.close();
        assertEquals(0, Descriptors.under(dir));
        assertNull(polls.outcome());
        assertNull(polls.endpoint());
        assertEquals(0, Descriptors.under(dir), "finished: nothing is held any more");
    }

    @Test
    void publishEndpoint_whereTheFileCannotBeOpened_isAnUnusableDirectory() throws IOException {
        StepPolls polls = new StepPolls(files, clock);
        Files.delete(files.endpointFile);
        Files.createDirectory(files.endpointFile);
        MusterException e =
                assertThrows(MusterException.class, () -> polls.publishEndpoint(TcpEndpoint.none("no listener")));
        assertTrue(e.getMessage().startsWith("cannot write the endpoint file in " + files.dir), e.getMessage());
        assertEquals(ExitCodes.UNUSABLE_DIR, e.status());
    }
}
