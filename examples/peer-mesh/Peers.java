import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A peer mesh as JVM clusters start one: every rank listens on BASE_PORT + rank, then connects to every other
 * rank, once, with no retry, and exits 0 only if every connection succeeded and every peer connected back.
 * Without a start-up barrier a rank that starts late is not listening yet, and its peers fail.
 *
 * <pre>
 * javac -d . Peers.java
 * srun java -javaagent:muster-agent.jar=arrive=bind,await=Peers#connectAll,roster=true -cp . Peers BASE_PORT
 * </pre>
 *
 * Each peer's host comes from muster's roster: the agent's {@code muster.hosts} property (roster=true), or under
 * {@code muster run --roster} its {@code MUSTER_HOSTS}. Without either (no muster) it is worked out as a script
 * would, from Slurm's block distribution ({@code scontrol show hostnames}, SLURM_STEP_TASKS_PER_NODE).
 * PEERS_DELAY_RANK and PEERS_DELAY_MS make one rank start late, as a slow node would.
 */
public final class Peers {
    private final int rank;
    private final int size;
    private final int basePort;
    private final CountDownLatch greeted;
    /** Where the peers' hosts came from, for the report line. */
    private String source = "nowhere";

    private Peers(int rank, int size, int basePort) {
        this.rank = rank;
        this.size = size;
        this.basePort = basePort;
        this.greeted = new CountDownLatch(size - 1);
    }

    public static void main(String[] args) throws Exception {
        int rank = Integer.parseInt(env("SLURM_PROCID", "MUSTER_RANK"));
        int size = Integer.parseInt(env("SLURM_NTASKS", "MUSTER_SIZE"));
        String delayRank = System.getenv("PEERS_DELAY_RANK");
        if (delayRank != null && Integer.parseInt(delayRank) == rank) {
            Thread.sleep(Long.parseLong(System.getenv().getOrDefault("PEERS_DELAY_MS", "2000")));
        }
        Peers p = new Peers(rank, size, Integer.parseInt(args[0]));
        p.listen();
        boolean ok = p.connectAll() && p.greeted.await(30, TimeUnit.SECONDS);
        System.out.println("rank " + rank + (ok ? " connected to all " + (size - 1) + " peers" : " FAILED")
                + " (hosts from " + p.source + ")");
        System.exit(ok ? 0 : 1);
    }

    private static String env(String slurm, String local) {
        String v = System.getenv(slurm);
        return v != null ? v : System.getenv(local);
    }

    /** Listens; a daemon thread answers every peer's greeting. */
    private void listen() throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(basePort + rank), size);
        Thread t = new Thread(() -> {
            while (true) {
                try (Socket s = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                            StandardCharsets.UTF_8));
                    if (in.readLine() != null) {
                        s.getOutputStream().write("ok\n".getBytes(StandardCharsets.UTF_8));
                        greeted.countDown();
                    }
                } catch (IOException e) {
                    // a peer that hung up: it reports its own failure
                }
            }
        }, "peers-accept");
        t.setDaemon(true);
        t.start();
    }

    /** One attempt per peer, no retry: the point is that every peer is listening by now. */
    public boolean connectAll() {
        List<String> hosts;
        try {
            hosts = hosts();
        } catch (IOException | InterruptedException e) {
            System.err.println("rank " + rank + ": no peer list: " + e);
            return false;
        }
        boolean ok = true;
        for (int r = 0; r < size; r++) {
            if (r == rank) {
                continue;
            }
            try {
                String host = hosts.get(r);
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, basePort + r), 5000);
                    s.setSoTimeout(10000);
                    OutputStream out = s.getOutputStream();
                    out.write(("hello from " + rank + "\n").getBytes(StandardCharsets.UTF_8));
                    String reply = new BufferedReader(new InputStreamReader(s.getInputStream(),
                            StandardCharsets.UTF_8)).readLine();
                    if (!"ok".equals(reply)) {
                        throw new IOException("no greeting back");
                    }
                }
            } catch (IOException e) {
                System.err.println("rank " + rank + ": cannot reach rank " + r + ": " + e);
                ok = false;
            }
        }
        return ok;
    }

    /** Every rank's host, in rank order: from the roster when muster gives one, else from Slurm. */
    private List<String> hosts() throws IOException, InterruptedException {
        String list = System.getProperty("muster.hosts", System.getenv("MUSTER_HOSTS"));
        if (list != null) {
            source = System.getProperty("muster.hosts") != null ? "muster.hosts" : "MUSTER_HOSTS";
            return List.of(list.split(","));
        }
        source = "Slurm";
        Process p = new ProcessBuilder("scontrol", "show", "hostnames", System.getenv("SLURM_STEP_NODELIST"))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<String> nodes = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        p.waitFor();
        List<String> hosts = new ArrayList<>();
        String[] counts = System.getenv("SLURM_STEP_TASKS_PER_NODE").split(",");
        int node = 0;
        for (String c : counts) { // "4(x3),2": 4 tasks on each of 3 nodes, then 2
            int x = c.indexOf("(x");
            int tasks = Integer.parseInt(x < 0 ? c : c.substring(0, x));
            int repeat = x < 0 ? 1 : Integer.parseInt(c.substring(x + 2, c.length() - 1));
            for (int i = 0; i < repeat; i++, node++) {
                for (int t = 0; t < tasks; t++) {
                    hosts.add(nodes.get(node));
                }
            }
        }
        return hosts;
    }
}
