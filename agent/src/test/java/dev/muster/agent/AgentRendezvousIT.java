package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** register=NAME,port=auto on a server bound to port 0; a client step resolves it; it is gone after exit. */
class AgentRendezvousIT {
    @Test
    void registerPortZero_resolvedByAClientStep_goneAfterExit() throws Exception {
        Path cache = Files.createTempDirectory("muster-cache");
        String name = "it-" + UUID.randomUUID().toString().substring(0, 8);
        Path latest = cache.resolve("rendezvous").resolve(name).resolve("latest.json");

        Jvm server = new Jvm(Jvm.JAVA25)
                .env("SLURM_JOB_ID", "7001")
                .agent("register=" + name + ",port=auto,cache-dir=" + cache + ",ttl-seconds=30,protocol=tcp")
                .main("dev.muster.agent.apps.Server")
                .start();
        long end = System.currentTimeMillis() + 30_000;
        while (!Files.exists(latest) && System.currentTimeMillis() < end) {
            Thread.sleep(50);
        }
        assertTrue(Files.exists(latest), server::toString);
        String port = server.out().replaceAll("(?s).*listening (\\d+).*", "$1");

        // a client step of two tasks: rank 0 resolves and hands the record to rank 1 in the release
        Path sync = Files.createTempDirectory("muster-agent-it");
        String job = "client-" + UUID.randomUUID();
        Jvm[] clients = new Jvm[2];
        for (int r = 0; r < 2; r++) {
            clients[r] = Jvm.task(Jvm.JAVA17, job, r, 2, sync)
                    .agent("rendezvous=" + name + ",cache-dir=" + cache)
                    .main(
                            "dev.muster.agent.apps.Hello",
                            "prop=muster.rdzv." + name + ".port",
                            "prop=muster.rdzv." + name + ".url",
                            "prop=muster.rdzv." + name + ".job_id")
                    .start();
        }
        for (Jvm c : clients) {
            assertEquals(0, c.await(60), c::toString);
            assertTrue(c.out().contains("muster.rdzv." + name + ".port=" + port + "\n"), c::toString);
            assertTrue(c.out().contains("muster.rdzv." + name + ".url=tcp://"), c::toString);
            assertTrue(c.out().contains("muster.rdzv." + name + ".job_id=7001\n"), c::toString);
        }

        server.process().getOutputStream().close(); // the server ends; its shutdown hook deregisters
        assertEquals(0, server.await(30), server::toString);
        assertFalse(Files.exists(latest), server::toString);
    }

    /**
     * The defect found with Hazelcast: at a step barrier, rank 0's own TCP release listener binds while the bind
     * advice is active; it was taken for the application's bind, registered, and named in a verbose line.
     */
    @Test
    void registerPortAuto_atAStepBarrier_registersTheApplicationsPort_notMustersListener() throws Exception {
        Path cache = Files.createTempDirectory("muster-cache");
        String name = "own-" + UUID.randomUUID().toString().substring(0, 8);
        Path latest = cache.resolve("rendezvous").resolve(name).resolve("latest.json");
        Path sync = Files.createTempDirectory("muster-agent-it");
        String job = "own-" + UUID.randomUUID();
        Jvm server = Jvm.task(Jvm.JAVA25, job, 0, 2, sync)
                .agent("register=" + name + ",port=auto,cache-dir=" + cache + ",ttl-seconds=30,protocol=tcp,"
                        + "verbose=true")
                .main("dev.muster.agent.apps.Server")
                .start();
        Jvm other = Jvm.task(Jvm.JAVA25, job, 1, 2, sync)
                .agent("")
                .main("dev.muster.agent.apps.Hello")
                .start();
        assertEquals(0, other.await(60), other::toString);
        long end = System.currentTimeMillis() + 30_000;
        while (!server.out().contains("listening ") && System.currentTimeMillis() < end) {
            Thread.sleep(50);
        }
        String port = server.out().replaceAll("(?s).*listening (\\d+).*", "$1");
        while (!(Files.exists(latest) && Files.readString(latest).contains("\"port\":"))
                && System.currentTimeMillis() < end) {
            Thread.sleep(50);
        }
        String record = Files.readString(latest);
        assertTrue(
                record.contains("\"port\": " + port + ","),
                "registered the application's port " + port + "\n" + record + "\n" + server);
        // every "listens on port" line names the application's port, none muster's listener
        for (String line : server.err().split("\n")) {
            if (line.contains("listens on port")) {
                assertTrue(line.endsWith("listens on port " + port), line + "\n" + server);
            }
        }
        server.process().getOutputStream().close();
        assertEquals(0, server.await(30), server::toString);
    }

    /**
     * Two tasks: rank 0 cannot resolve the name and aborts the step with 69; rank 1, which resolves nothing
     * itself, receives the abort through the barrier and exits with the same code, naming rank 0, without waiting
     * for its barrier timeout.
     */
    @Test
    void unresolvedName_rank0AbortsTheStep_with69() throws Exception {
        Path cache = Files.createTempDirectory("muster-cache");
        Path sync = Files.createTempDirectory("s");
        String job = "none-" + UUID.randomUUID();
        Jvm[] tasks = new Jvm[2];
        for (int r = 1; r >= 0; r--) { // rank 1 first, so that it is surely waiting when rank 0 aborts
            tasks[r] = Jvm.task(Jvm.JAVA25, job, r, 2, sync)
                    .agent("rendezvous=nobody-here,cache-dir=" + cache + ",timeout=600s")
                    .main("dev.muster.agent.apps.Hello")
                    .start();
        }
        assertEquals(69, tasks[0].await(60), tasks[0]::toString);
        assertEquals(1, tasks[0].err().lines().count(), tasks[0]::toString);
        assertTrue(tasks[0].err().contains("nobody-here"), tasks[0]::toString);
        // the barrier's timeout is 600 s: rank 1 ends well before it only if the abort reached it
        assertEquals(69, tasks[1].await(120), tasks[1]::toString);
        assertFalse(tasks[1].out().contains("main "), tasks[1]::toString);
        assertTrue(tasks[1].err().startsWith("muster[1] ") && tasks[1].err().contains("rank 0"), tasks[1]::toString);
    }
}
