package dev.muster.task;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How {@link JobStatus#slurm()} reads Slurm's answers. The pom puts stand-ins for squeue and scontrol first on
 * this JVM's PATH (src/test/fake-slurm): they answer by job id, because a real controller cannot be made to purge
 * a job, fail or print nothing on demand. Every call they get is logged, so the tests also see which tool was
 * asked and how often.
 */
class JobStatusSlurmTest {
    private static Path log;

    @BeforeAll
    static void standInsOnPath() {
        String path = System.getenv("PATH");
        assertTrue(
                path != null && path.contains("fake-slurm"),
                "run through Maven: the pom puts src/test/fake-slurm first on PATH; PATH=" + path);
        log = Path.of(System.getenv("MUSTER_FAKE_SLURM_LOG"));
    }

    private static long calls(String tool, String jobId) throws IOException {
        if (!Files.exists(log)) {
            return 0;
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return lines.stream()
                .filter(l -> l.startsWith(tool + " ") && l.contains(" " + jobId))
                .count();
    }

    @Test
    void squeueRunningOrPending_isActive_completed_isFinished() {
        JobStatus s = JobStatus.slurm();
        assertEquals(JobStatus.State.ACTIVE, s.state("9001"));
        assertEquals(JobStatus.State.FINISHED, s.state("9002"));
        assertEquals(JobStatus.State.ACTIVE, s.state("9008"), "\"  pending  more\": first word, any case");
    }

    @Test
    void squeueInvalidJobId_meansPurged_soFinished() {
        assertEquals(JobStatus.State.FINISHED, JobStatus.slurm().state("9003"));
    }

    @Test
    void squeueSilent_fallsBackToScontrolsJobState() throws IOException {
        long before = calls("scontrol", "9004");
        assertEquals(JobStatus.State.FINISHED, JobStatus.slurm().state("9004"), "JobState=CANCELLED");
        assertEquals(before + 1, calls("scontrol", "9004"));
    }

    @Test
    void scontrolJobState_isReadWhereverItStands() {
        assertEquals(JobStatus.State.ACTIVE, JobStatus.slurm().state("9009"), "JobState= first on the line");
        assertEquals(JobStatus.State.ACTIVE, JobStatus.slurm().state("9010"), "JobState= after other fields");
    }

    @Test
    void squeueFailing_scontrolInvalidJobId_isFinished() {
        assertEquals(JobStatus.State.FINISHED, JobStatus.slurm().state("9005"));
    }

    @Test
    void bothToolsFailingOrUnclear_isUnknown() {
        assertEquals(JobStatus.State.UNKNOWN, JobStatus.slurm().state("9006"), "controller unreachable");
        assertEquals(JobStatus.State.UNKNOWN, JobStatus.slurm().state("9007"), "scontrol prints no JobState");
    }

    @Test
    void notASlurmJobId_isUnknown_withoutAsking() throws IOException {
        long before = calls("squeue", "local-1234-abc");
        JobStatus s = JobStatus.slurm();
        assertEquals(JobStatus.State.UNKNOWN, s.state("local-1234-abc"));
        assertEquals(JobStatus.State.UNKNOWN, s.state(null));
        assertEquals(JobStatus.State.ACTIVE, s.state("123_4"), "array task ids are asked");
        assertEquals(JobStatus.State.ACTIVE, s.state("123+1"), "heterogeneous component ids are asked");
        assertEquals(before, calls("squeue", "local-1234-abc"));
    }

    @Test
    void finishedAnswer_isFinal_askedOnce() throws IOException {
        JobStatus s = JobStatus.slurm();
        long before = calls("squeue", "9002");
        for (int i = 0; i < 3; i++) {
            assertEquals(JobStatus.State.FINISHED, s.state("9002"));
        }
        assertEquals(before + 1, calls("squeue", "9002"));
    }

    @Test
    void activeAnswer_isReusedForAWhile_thenAskedAgain() throws IOException {
        JobStatus s = JobStatus.slurm();
        long before = calls("squeue", "9001");
        assertEquals(JobStatus.State.ACTIVE, s.state("9001"));
        // right after an answer (well inside the two seconds an active answer is kept), no second question
        assertEquals(JobStatus.State.ACTIVE, s.state("9001"));
        assertEquals(before + 1, calls("squeue", "9001"));
        // an active job may end: it is asked again later
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> s.state("9001") == JobStatus.State.ACTIVE && calls("squeue", "9001") >= before + 2);
    }

    @Test
    void interruptedWhileAsking_isUnknown_andTheInterruptIsKept() {
        Thread.currentThread().interrupt();
        try {
            assertEquals(JobStatus.State.UNKNOWN, JobStatus.slurm().state("9001"));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is restored for the caller");
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void warmUp_startsSqueueAheadOfTheFirstQuestion_onADaemonThread() throws IOException {
        long before = calls("squeue", "--version");
        JobStatus.slurm().warmUp();
        // the stand-in's --version takes a second: the thread is there meanwhile, and must not keep a JVM alive
        Thread warm = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("muster-slurm-warm-up"))
                .findFirst()
                .orElseThrow();
        assertTrue(warm.isDaemon());
        await().atMost(Duration.ofSeconds(30)).until(() -> calls("squeue", "--version") > before);
    }
}
