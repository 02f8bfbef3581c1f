package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Open MPI programs behind muster: direct launch with {@code srun --mpi=pmix}, and {@code mpirun} inside a batch
 * job, where the tasks also carry the enclosing step's {@code SLURM_*} values and must go by Open MPI's.
 */
class OpenMpiIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    private static final String HELLO = ""
            + "#include <mpi.h>\n"
            + "#include <stdio.h>\n"
            + "#include <stdlib.h>\n"
            + "int main(int argc, char **argv) {\n"
            + "    int rank, size, sum = 0;\n"
            + "    MPI_Init(&argc, &argv);\n"
            + "    MPI_Comm_rank(MPI_COMM_WORLD, &rank);\n"
            + "    MPI_Comm_size(MPI_COMM_WORLD, &size);\n"
            + "    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);\n"
            + "    const char *m = getenv(\"MUSTER_RANK\");\n"
            + "    printf(\"hello from rank %d of %d sum=%d muster_rank=%s\\n\", rank, size, sum, m ? m : \"-\");\n"
            + "    MPI_Finalize();\n"
            + "    return 0;\n"
            + "}\n";

    private static final Pattern LINE =
            Pattern.compile("hello from rank (\\d+) of (\\d+) sum=(\\d+) muster_rank=(\\S+)");

    private Path compileHello() throws Exception {
        Path src = cluster.dir().resolve("mpi_hello.c");
        Files.writeString(src, HELLO);
        Path bin = cluster.dir().resolve("mpi_hello");
        Run.Result cc =
                cluster.run(Duration.ofSeconds(60), Map.of(), List.of("mpicc", "-o", bin.toString(), src.toString()));
        assertEquals(0, cc.exit(), "mpicc\n" + cc.describe());
        return bin;
    }

    /** MPI rank → (size, sum, MUSTER_RANK) from every hello line. */
    private static Map<Integer, String[]> hellos(String out) {
        Map<Integer, String[]> m = new TreeMap<>();
        Matcher x = LINE.matcher(out);
        while (x.find()) {
            m.put(Integer.parseInt(x.group(1)), new String[] {x.group(2), x.group(3), x.group(4)});
        }
        return m;
    }

    private static List<Integer> upTo(int n) {
        return java.util.stream.IntStream.range(0, n).boxed().collect(Collectors.toList());
    }

    @Test
    @Timeout(90)
    void srunPmix_eightRanksOnFourNodes_printEveryRank() throws Exception {
        Path hello = compileHello();
        Map<String, String> env = Cluster.env(Jdk.J25);
        List<String> args =
                new java.util.ArrayList<>(List.of("--mpi=pmix", "-N", "4", "-n", "8", "--ntasks-per-node=2"));
        args.addAll(Cluster.muster(Jdk.J25));
        args.addAll(
                List.of("run", "--timeout", "60", "--sync-dir", cluster.sync().toString(), "--", hello.toString()));
        Run.Result r = cluster.srun(Duration.ofSeconds(70), env, args.toArray(String[]::new));

        assertEquals(0, r.exit(), r.describe());
        Map<Integer, String[]> h = hellos(r.out());
        assertEquals(upTo(8), List.copyOf(h.keySet()), "every rank says hello\n" + r.describe());
        for (Map.Entry<Integer, String[]> e : h.entrySet()) {
            assertEquals("8", e.getValue()[0], "MPI size");
            assertEquals("28", e.getValue()[1], "MPI_Allreduce of the ranks 0..7");
            assertEquals(Integer.toString(e.getKey()), e.getValue()[2], "MUSTER_RANK equals the MPI rank");
        }
    }

    @Test
    @Timeout(90)
    void mpirunInBatchJob_identifiesRanksByOpenMpisVariables() throws Exception {
        Path hello = compileHello();
        Path d = cluster.dir();
        String muster = Cluster.musterShell(Jdk.J25);
        Path job = cluster.script(
                "job.sh",
                ""
                        + "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"
                        + "mpirun -n 4 " + muster + " explain --format json > " + d + "/explain.json 2> " + d
                        + "/explain.err || exit 10\n"
                        + "mpirun -n 4 " + muster + " run --timeout 60 --sync-dir " + cluster.sync() + " -- " + hello
                        + " > " + d + "/hello.out 2> " + d + "/hello.err || exit 11\n");
        Run.Result r = cluster.run(
                Duration.ofSeconds(80),
                Cluster.env(Jdk.J25),
                List.of(
                        "sbatch",
                        "--wait",
                        "--job-name",
                        cluster.jobName(),
                        "-n",
                        "4",
                        "-o",
                        d.resolve("job.out").toString(),
                        job.toString()));
        String all = r.describe() + "\n--- job.out ---\n" + Run.read(d.resolve("job.out"))
                + "\n--- explain.err ---\n" + Run.read(d.resolve("explain.err"))
                + "\n--- hello.err ---\n" + Run.read(d.resolve("hello.err"));
        assertEquals(0, r.exit(), all);

        // four JSON objects, one per task: launcher openmpi, ranks 0..3 of 4, sources named
        String json = Run.read(d.resolve("explain.json"));
        List<String> launchers = grab(json, "\"launcher\":\\s*\"([^\"]+)\"");
        List<String> ranks = grab(json, "\"rank\":\\s*(\\d+)");
        List<String> sizes = grab(json, "\"size\":\\s*(\\d+)");
        assertEquals(List.of("openmpi", "openmpi", "openmpi", "openmpi"), launchers, json);
        assertEquals(List.of("0", "1", "2", "3"), ranks.stream().sorted().collect(Collectors.toList()), json);
        assertEquals(List.of("4", "4", "4", "4"), sizes, json);
        assertTrue(json.contains("OMPI_COMM_WORLD_RANK"), "the rank's source is Open MPI's variable\n" + json);

        Map<Integer, String[]> h = hellos(Run.read(d.resolve("hello.out")));
        assertEquals(upTo(4), List.copyOf(h.keySet()), all);
        for (Map.Entry<Integer, String[]> e : h.entrySet()) {
            assertEquals("6", e.getValue()[1], "MPI_Allreduce of the ranks 0..3");
            // not the enclosing step's SLURM_PROCID (0 for every task of the orted step)
            assertEquals(Integer.toString(e.getKey()), e.getValue()[2], "MUSTER_RANK equals the MPI rank");
        }
    }

    private static List<String> grab(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        List<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }
}
