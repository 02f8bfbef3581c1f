package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The roster's files in the step directory: the card in each arrival file, and the {@code roster} file rank 0
 * writes before it decides the release. Arrival file, protocol 1 with a card: the diagnostic line
 * {@code host=.. pid=.. time=..}, then the card's lines, then {@code end}; a file of protocol 1 without a card
 * still gives a roster entry (node and pid).
 */
final class RosterFiles {
    static final String ROSTER = "roster";
    static final String CARD_END = "end\n";
    /**
     * How long rank 0 re-reads an arrival file whose card is still incomplete (created, not yet written): longer
     * than a client's attribute cache may show the file empty after its writer filled it (3 s on the test rig's
     * caching bindfs views; 2 s left rank 4 of an ssh-mesh run with a card of its rank alone).
     */
    static final long INCOMPLETE_NANOS = 10_000_000_000L;

    private RosterFiles() {}

    /** The arrival file's bytes: the diagnostic line, then the card, if any. */
    static byte[] arrival(String diagnostic, byte[] card) {
        if (card == null) {
            return diagnostic.getBytes(StandardCharsets.UTF_8);
        }
        byte[] d = diagnostic.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[d.length + card.length + CARD_END.length()];
        System.arraycopy(d, 0, out, 0, d.length);
        System.arraycopy(card, 0, out, d.length, card.length);
        System.arraycopy(
                CARD_END.getBytes(StandardCharsets.US_ASCII), 0, out, d.length + card.length, CARD_END.length());
        return out;
    }

    /**
     * Rank 0: the release data with the roster added when {@link Roster#WANTED} asks for it — every card (from
     * {@code tcpCards} where a peer sent it in its hello, else from its arrival file), the roster file written
     * (temp file + rename: nobody opens it before the outcome names it), and its size and transport. {@code roster[0]} receives the JSON bytes.
     */
    static Map<String, String> addRoster(
            StepFiles files,
            Map<String, String> data,
            Card own,
            IntFunction<byte[]> tcpCards,
            boolean tcp,
            boolean allConnected,
            Clock clock,
            byte[][] roster,
            java.util.BitSet leaders) {
        if (!data.containsKey(Roster.WANTED)) {
            return data;
        }
        Card[] cards = new Card[files.size];
        cards[0] = own;
        for (int r = 1; r < files.size; r++) {
            byte[] b = tcpCards == null ? null : tcpCards.apply(r);
            Card c = null;
            if (b != null) {
                try {
                    c = Card.decode(b, 0, b.length, r);
                } catch (RuntimeException e) {
                    Log.debug("rank " + r + "'s card from its hello: " + e.getMessage());
                }
            }
            cards[r] = c != null ? c : fromArrival(files, r, clock);
        }
        byte[] json = Roster.json(cards);
        java.util.BitSet lead = RosterRelay.leaders(cards);
        String via = RosterRelay.via(tcp, files.size, json.length, lead.cardinality());
        if (via.equals(RosterRelay.NODE)) {
            leaders.or(lead);
        }
        // Every task streamed to: the file is written after the release has gone out, off its critical path; it
        // is there for a task that reads the outcome from the file after all (RosterFiles#read waits for it).
        if (!(via.equals("tcp") && allConnected)) {
            write(files, json);
        }
        Map<String, String> out = new LinkedHashMap<>(data);
        out.remove(Roster.WANTED);
        out.put(Roster.BYTES, Integer.toString(json.length));
        out.put(Roster.VIA, via);
        roster[0] = json;
        return out;
    }

    /** Writes the roster file: temp file + rename, so that a reader never sees part of it. */
    static void write(StepFiles files, byte[] json) {
        Path file = files.dir.resolve(ROSTER);
        Path tmp = files.dir.resolve("." + ROSTER + "." + dev.muster.core.Posix.pid() + ".tmp");
        try {
            dev.muster.core.SharedFiles.writeReplacing(tmp, file, json);
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write the roster file in " + files.dir + ": " + e);
        }
    }

    /** {@code rank}'s card from its arrival file; a minimal one (node, pid) for a file without a card. */
    private static Card fromArrival(StepFiles files, int rank, Clock clock) {
        Path p = files.arrivalDir.resolve(Integer.toString(rank / files.width)).resolve(Integer.toString(rank));
        long until = clock.nanoTime() + INCOMPLETE_NANOS;
        while (true) {
            String s;
            try {
                s = new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
            } catch (IOException e) {
                s = "";
            }
            int nl = s.indexOf('\n');
            if (nl > 0 && (s.length() == nl + 1 || s.endsWith(CARD_END))) {
                String first = s.substring(0, nl);
                if (s.length() > nl + 1) {
                    byte[] card =
                            s.substring(nl + 1, s.length() - CARD_END.length()).getBytes(StandardCharsets.UTF_8);
                    try {
                        return Card.decode(card, 0, card.length, rank);
                    } catch (RuntimeException e) {
                        Log.warn("rank " + rank + "'s card in " + p + " is malformed (" + e.getMessage()
                                + "): the roster names only its node");
                    }
                }
                return Card.minimal(rank, field(first, "host"), parseLong(field(first, "pid")));
            }
            if (clock.nanoTime() >= until) {
                Log.warn(
                        "rank " + rank + "'s arrival file " + p + " stayed incomplete: the roster names only its rank");
                return Card.minimal(rank, "", 0);
            }
            try {
                clock.sleep(10_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Card.minimal(rank, "", 0);
            }
        }
    }

    /**
     * Any task after the release: the roster's bytes, as rank 0 wrote them, when the release names one (null when
     * it does not). Read from the step directory, which the clean-up keeps until this task departs.
     */
    static byte[] read(StepFiles files, Outcome release, Clock clock) {
        String n = release.data().get(Roster.BYTES);
        if (n == null) {
            return null;
        }
        long want = Long.parseLong(n);
        if (want > Roster.MAX_BYTES) {
            throw MusterException.corrupt(
                    "the release names a roster of " + want + " bytes, more than " + Roster.MAX_BYTES);
        }
        Path file = files.dir.resolve(ROSTER);
        long until = clock.nanoTime() + INCOMPLETE_NANOS;
        IOException last = null;
        while (clock.nanoTime() < until) {
            try {
                byte[] b = Files.readAllBytes(file);
                if (b.length == want) {
                    return b;
                }
                last = new IOException(b.length + " bytes where the release says " + want);
            } catch (NoSuchFileException e) {
                last = e; // a client cache that has not seen the rename yet: read again
            } catch (IOException e) {
                last = e;
            }
            try {
                clock.sleep(20_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw MusterException.corrupt("cannot read the roster file " + file + " (" + last + "); check that "
                + "the sync directory is shared by every node of the step");
    }

    private static String field(String line, String key) {
        for (String f : line.split(" ")) {
            if (f.startsWith(key + "=")) {
                return f.substring(key.length() + 1);
            }
        }
        return "";
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
