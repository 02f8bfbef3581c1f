package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.Posix;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * One task's card and the step's roster (docs/roster.md) as the barrier carries them: the card travels with the
 * arrival (file or TCP hello), rank 0 builds the roster into the release, the others receive it over TCP or read
 * it from the step's roster file ({@link RosterFiles}).
 */
final class StepRoster {
    private final StepFiles files;
    private final String node;
    private final Clock clock;

    /** This task's card (docs/roster.md), encoded; null: a card of node and pid only. */
    private byte[] card;

    private Card ownCard;
    /** The roster's JSON once known: built here (rank 0) or streamed with the TCP release. */
    private byte[] roster;

    private boolean rosterFileDeferred;
    /** Rank 0, with {@code roster.via=node}: the node leaders the roster is streamed to. */
    private final java.util.BitSet rosterLeaders = new java.util.BitSet();
    /** Where this node's roster file goes ({@link RosterRelay}); null: this task neither writes nor reads one. */
    private java.nio.file.Path nodeRosterDir;
    /** Where this task's roster came from: {@code built}, {@code stream}, {@code node}, {@code shared}. */
    private String rosterFrom;

    StepRoster(StepFiles files, String node, Clock clock) {
        this.files = files;
        this.node = node;
        this.clock = clock;
    }

    /** Sets this task's card, checked ({@link Card#check}); it travels with the arrival. */
    void card(Card c) {
        this.card = c.check();
        this.ownCard = c;
    }

    /** This task's encoded card, or null when it has none (the TCP hello is then of version 1). */
    byte[] cardBytes() {
        return card;
    }

    /** Rank 0: {@code data} with the roster added if it asks for one ({@link RosterFiles#addRoster}). */
    Map<String, String> withRoster(
            Map<String, String> data, IntFunction<byte[]> tcpCards, boolean tcp, boolean allConnected) {
        Card own = ownCard != null ? ownCard : Card.minimal(0, node, Posix.pid());
        byte[][] out = new byte[1][];
        Map<String, String> d =
                RosterFiles.addRoster(files, data, own, tcpCards, tcp, allConnected, clock, out, rosterLeaders);
        if (out[0] != null) {
            roster = out[0];
            rosterFileDeferred = tcp && allConnected && "tcp".equals(d.get(Roster.VIA));
        }
        return d;
    }

    /** Rank 0, after the TCP release went out: writes the roster file it deferred (see RosterFiles#addRoster). */
    void writeDeferredRoster() {
        if (rosterFileDeferred) {
            rosterFileDeferred = false;
            RosterFiles.write(files, roster);
        }
    }

    /** The roster streamed with the TCP release. */
    void receivedRoster(byte[] bytes) {
        roster = bytes;
    }

    /** Rank 0: the node leaders the roster is streamed to with {@code roster.via=node}. */
    java.util.BitSet rosterLeaders() {
        return rosterLeaders;
    }

    void nodeRosterDir(java.nio.file.Path dir) {
        this.nodeRosterDir = dir;
    }

    String rosterFrom() {
        return rosterFrom;
    }

    /** Rank 0's roster as built, for streaming after the outcome. */
    byte[] builtRoster() {
        return roster;
    }

    /**
     * After the release, before the departure: the roster's JSON, or null when the release carries none. Read
     * from the step's roster file unless it came over TCP or this is rank 0; with {@code roster.via=node}, from
     * this node's file when another task of the node wrote it ({@link RosterRelay}).
     */
    byte[] roster(Outcome release, int rank) {
        if (release.data().get(Roster.BYTES) == null) {
            return null;
        }
        boolean perNode = RosterRelay.NODE.equals(release.data().get(Roster.VIA)) && nodeRosterDir != null;
        String prefix = perNode ? RosterRelay.prefix(files.dir, ownCard != null ? ownCard.node() : node) : null;
        if (roster == null && perNode) {
            try {
                roster = RosterRelay.read(
                        nodeRosterDir, prefix, Long.parseLong(release.data().get(Roster.BYTES)), clock);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (roster != null) {
                rosterFrom = "node";
                return roster; // the node's file is there already: nothing to write
            }
        }
        if (roster == null) {
            roster = RosterFiles.read(files, release, clock);
            rosterFrom = "shared";
        } else if (rosterFrom == null) {
            rosterFrom = rank == 0 ? "built" : "stream";
        }
        if (perNode) {
            // rank 0, a node leader (streamed to), or a task that found no node file: the node's copy
            RosterRelay.write(nodeRosterDir, prefix, roster);
        }
        return roster;
    }
}
