package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The step roster with real programs on the local Slurm: PyTorch's gloo rendezvous (env://) from what {@code run
 * --torchrun-env --address} exports, two steps at once on the same nodes; Open MPI's {@code mpirun} placing ranks
 * by the host file {@code muster roster --format hostfile} writes in a batch script; a bad {@code --publish} ending
 * the whole step with exit 2 at once.
 */
class RosterSlurmIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    private static final String PYTHON = "/usr/bin/python3"; // Debian's, where python3-torch installs

    private static final String ALL_REDUCE = ""
            + "import os, torch, torch.distributed as dist\n"
            + "dist.init_process_group('gloo')\n"
            + "t = torch.tensor([float(dist.get_rank())])\n"
            + "dist.all_reduce(t)\n"
            + "print('torch rank=%d size=%d sum=%d muster_rank=%s master=%s:%s ifname=%s hosts=%s' % (\n"
            + "    dist.get_rank(), dist.get_world_size(), int(t.item()), os.environ['MUSTER_RANK'],\n"
            + "    os.environ['MASTER_ADDR'], os.environ['MASTER_PORT'], os.environ.get('GLOO_SOCKET_IFNAME'),\n"
            + "    os.environ.get('MUSTER_HOSTS')), flush=True)\n"
            + "dist.destroy_process_group()\n";

    private static final Pattern TORCH = Pattern.compile(
            "torch rank=(\\d+) size=(\\d+) sum=(\\d+) muster_rank=(\\d+) master=(\\S+) ifname=(\\S+) hosts=(\\S+)");

    /** The interface every node of the test cluster has its own address on. */
    private static final String IFACE = Cluster.rig() ? "fab0" : "lo";

    /**
     * Rank 0's address on {@link #IFACE}: on the rig, the first node's on the fabric subnet ({@code <net>.2.1},
     * scripts/local-slurm/rig.sh); else loopback.
     */
    private static String rank0Address() throws java.io.IOException {
        if (!Cluster.rig()) {
            return "127.0.0.1";
        }
        Path conf = Path.of(System.getenv().getOrDefault("SLURM_CONF", "/etc/slurm/slurm.conf"));
        Matcher m = Pattern.compile("(?m)^# rig=1 prefix=\\S+ net=(\\S+)").matcher(Files.readString(conf));
        assertTrue(m.find(), "the rig's header line in " + conf);
        return m.group(1) + ".2.1";
    }

    private static void requireTorch(Cluster c) {
        Run.Result r = c.run(Duration.ofSeconds(60), Map.of(), List.of(PYTHON, "-c", "import torch"));
        boolean required = "1".equals(System.getenv("MUSTER_REQUIRE_SLURM"));
        if (r.exit() != 0 && required) {
            throw new AssertionError("python3-torch is missing (MUSTER_REQUIRE_SLURM=1): " + r.describe());
        }
        Assumptions.assumeTrue(r.exit() == 0, "no python3-torch: apt-get install python3-torch");
    }

    @Test
    @Timeout(240)
    void torch_eightRanksOnFourNodes_twoStepsAtOnce_allReduceWithoutPortCollisions() throws Exception {
        requireTorch(cluster);
        Path script = cluster.dir().resolve("all_reduce.py");
        Files.writeString(script, ALL_REDUCE);
        List<String> cmd =
                new ArrayList<>(List.of("srun", "--job-name", cluster.jobName(), "-N", "4", "--ntasks-per-node=2"));
        cmd.addAll(Cluster.muster(Jdk.J25));
        // on the rig every node has its own fab0 (the fabric subnet); on the flat cluster the four nodes share this
        // host's interfaces, and lo is the one every node has
        cmd.addAll(List.of(
                "run",
                "--torchrun-env",
                "--address",
                IFACE,
                "--timeout",
                "120",
                "--sync-dir",
                cluster.sync().toString(),
                "--",
                PYTHON,
                script.toString()));
        Process a = cluster.start(Cluster.env(Jdk.J25), cmd, "a");
        Process b = cluster.start(Cluster.env(Jdk.J25), cmd, "b");
        String masterA = checkStep(a, "a");
        String masterB = checkStep(b, "b");
        assertTrue(!masterA.equals(masterB), "two steps on the same nodes chose different ports: " + masterA);
    }

    /** Waits for step {@code name}; checks every rank's line; returns its MASTER_ADDR:MASTER_PORT. */
    private String checkStep(Process p, String name) throws Exception {
        boolean done = p.waitFor(200, java.util.concurrent.TimeUnit.SECONDS);
        String out = Run.read(cluster.dir().resolve(name + ".out"));
        String all =
                out + "\n--- " + name + ".err ---\n" + Run.read(cluster.dir().resolve(name + ".err"));
        assertTrue(done, "step " + name + " did not end\n" + all);
        assertEquals(0, p.exitValue(), all);
        Map<Integer, String[]> ranks = new TreeMap<>();
        Matcher m = TORCH.matcher(out);
        String master = null;
        while (m.find()) {
            ranks.put(
                    Integer.parseInt(m.group(1)),
                    new String[] {m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)});
            master = master == null ? m.group(5) : master;
            assertEquals(master, m.group(5), "one MASTER_ADDR:PORT per step\n" + all);
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), List.copyOf(ranks.keySet()), all);
        for (Map.Entry<Integer, String[]> e : ranks.entrySet()) {
            assertEquals("8", e.getValue()[0]);
            assertEquals("28", e.getValue()[1], "all_reduce of the ranks 0..7");
            assertEquals(Integer.toString(e.getKey()), e.getValue()[2], "torch's rank is muster's");
            assertTrue(
                    e.getValue()[3].startsWith(rank0Address() + ":"),
                    "MASTER_ADDR is rank 0's address on " + IFACE + ": " + e.getValue()[3]);
            assertEquals(IFACE, e.getValue()[4], "GLOO_SOCKET_IFNAME is the chosen interface");
            List<String> n = Slurm.nodes();
            assertEquals(
                    String.join(",", n.get(0), n.get(0), n.get(1), n.get(1), n.get(2), n.get(2), n.get(3), n.get(3)),
                    e.getValue()[5],
                    "MUSTER_HOSTS in rank order");
        }
        return master;
    }

    @Test
    @Timeout(120)
    void mpirun_inBatchScript_placesRanksAsTheRosterHostfileSays() throws Exception {
        Path d = cluster.dir();
        String muster = Cluster.musterShell(Jdk.J25);
        // Open MPI reads a host file more than once: a <(...) pipe is empty the second time, so write a file
        Path job = cluster.script(
                "job.sh",
                ""
                        + "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,tcp\n"
                        + "echo \"$SLURM_TASKS_PER_NODE\" > " + d + "/tasks\n"
                        + muster + " roster --format hostfile > " + d + "/hostfile || exit 10\n"
                        + "mpirun --hostfile " + d + "/hostfile sh -c 'echo \"mpi rank=$OMPI_COMM_WORLD_RANK "
                        + "node=$SLURMD_NODENAME\"' > " + d + "/mpi.out 2> " + d + "/mpi.err || exit 11\n");
        Run.Result r = cluster.run(
                Duration.ofSeconds(100),
                Cluster.env(Jdk.J25),
                List.of(
                        "sbatch",
                        "--wait",
                        "--job-name",
                        cluster.jobName(),
                        "-N",
                        "2",
                        "-n",
                        "5",
                        "-o",
                        d.resolve("job.out").toString(),
                        job.toString()));
        String all = r.describe() + "\n--- job.out ---\n" + Run.read(d.resolve("job.out")) + "\n--- mpi.err ---\n"
                + Run.read(d.resolve("mpi.err"));
        assertEquals(0, r.exit(), all);
        // Slurm splits 5 tasks over 2 nodes as it likes (4,1 or 3,2): the host file must say what it said
        List<Integer> counts = dev.muster.task.SlurmLists.expandCounts(
                Run.read(d.resolve("tasks")).trim());
        assertEquals(5, counts.stream().mapToInt(Integer::intValue).sum(), all);
        assertEquals(
                "n1 slots=" + counts.get(0) + "\nn2 slots=" + counts.get(1) + "\n",
                Run.read(d.resolve("hostfile")),
                all);
        Map<Integer, String> expected = new TreeMap<>();
        for (int rank = 0; rank < 5; rank++) {
            expected.put(rank, rank < counts.get(0) ? "n1" : "n2"); // mpirun fills each host's slots in order
        }
        Map<Integer, String> node = new TreeMap<>();
        Matcher m = Pattern.compile("mpi rank=(\\d+) node=(\\S+)").matcher(Run.read(d.resolve("mpi.out")));
        while (m.find()) {
            node.put(Integer.parseInt(m.group(1)), m.group(2));
        }
        assertEquals(expected, node, all);
    }

    @Test
    @Timeout(60)
    void publishTooBig_endsTheStepWithExit2_beforeAnyTaskWaits() throws Exception {
        for (int i = 0; i < 4; i++) {
            Files.writeString(cluster.dir().resolve("blob-" + i), i == 3 ? "x".repeat(1025) : "ok");
        }
        // only rank 3's value is too big: the others must not wait for it until the 50 s timeout
        String task = Cluster.musterShell(Jdk.J25) + " run --timeout 50 --sync-dir " + cluster.sync()
                + " --publish blob=@" + cluster.dir() + "/blob-$SLURM_PROCID -- true";
        Run.Result r =
                cluster.srun(Duration.ofSeconds(55), Cluster.env(Jdk.J25), "-N", "2", "-n", "4", "sh", "-c", task);
        assertEquals(2, r.exit(), r.describe());
        assertTrue(r.took().toSeconds() < 40, "the step ended at once, not at the timeout\n" + r.describe());
        assertTrue(r.err().contains("muster[3] error: --publish blob=@"), r.describe());
    }
}
