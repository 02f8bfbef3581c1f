import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A peer mesh as JVM clusters start one: every rank listens on BASE_PORT + rank, then connects to every other
 * rank, once, with no retry, and exits 0 only if every connection succeeded and every peer connected back.
 * Without a start-up barrier a rank that starts late is not listening yet, and its peers fail.
 *
 * <pre>
 * javac -d . Peers.java
 * srun java -javaagent:muster-agent.jar=arrive=bind,await=Peers#connectAll -cp . Peers SHARED_DIR BASE_PORT
 * </pre>
 *
 * SHARED_DIR (seen by every node) carries each rank's host name, written before it listens. PEERS_DELAY_RANK and
 * PEERS_DELAY_MS make one rank start late, as a slow node would.
 */
public final class Peers {
    private final int rank;
    private final int size;
    private final Path dir;
    private final int basePort;
    private final CountDownLatch greeted;

    private Peers(int rank, int size, Path dir, int basePort) {
        this.rank = rank;
        this.size = size;
        this.dir = dir;
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
        Peers p = new Peers(rank, size, Path.of(args[0]), Integer.parseInt(args[1]));
        p.listen();
        boolean ok = p.connectAll() && p.greeted.await(30, TimeUnit.SECONDS);
        System.out.println("rank " + rank + (ok ? " connected to all " + (size - 1) + " peers" : " FAILED"));
        System.exit(ok ? 0 : 1);
    }

    private static String env(String slurm, String local) {
        String v = System.getenv(slurm);
        return v != null ? v : System.getenv(local);
    }

    /** Publishes this rank's host, then listens; a daemon thread answers every peer's greeting. */
    private void listen() throws IOException {
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        Path tmp = dir.resolve(rank + ".host.tmp");
        Files.writeString(tmp, host);
        Files.move(tmp, dir.resolve(rank + ".host"), StandardCopyOption.ATOMIC_MOVE);
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
        boolean ok = true;
        for (int r = 0; r < size; r++) {
            if (r == rank) {
                continue;
            }
            try {
                String host = Files.readString(dir.resolve(r + ".host")).trim();
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
}
