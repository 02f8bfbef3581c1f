package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import java.io.IOException;

/**
 * The step files a task polls while it waits, the outcome and rank 0's TCP endpoint, each read without stat()
 * ({@link PolledFile}) under the one policy of their directory, and the endpoint's publication.
 */
final class StepPolls {
    private final StepFiles files;
    private final PolledFile.Policy policy;
    private final PolledFile outcome;
    private final PolledFile endpoint;

    StepPolls(StepFiles files, Clock clock) {
        this.files = files;
        this.policy = new PolledFile.Policy(files.dir);
        this.outcome = new PolledFile(files.outcomeFile, clock, policy);
        this.endpoint = new PolledFile(files.endpointFile, clock, policy);
    }

    /** The outcome file's poll, which the claim re-reads after a lost race. */
    PolledFile outcomeFile() {
        return outcome;
    }

    /** The outcome, or null while undecided. */
    Outcome outcome() {
        return outcome.outcome();
    }

    /** Rank 0's TCP endpoint, or null while rank 0 has not published it. Polled like the outcome. */
    TcpEndpoint endpoint() {
        return endpoint.endpoint();
    }

    /**
     * Rank 0: fills the pre-created endpoint file with one write(), as the outcome is written; not temp file +
     * rename, which would make the others poll a name that does not exist yet. The file is 0600: its token
     * admits a connection.
     */
    void publishEndpoint(TcpEndpoint ep) {
        try {
            StepFiles.fill(files.endpointFile, ep.encode());
        } catch (IOException e) {
            throw MusterException.unusableDir("cannot write the endpoint file in " + files.dir + ": " + e
                    + "; check that the sync directory is writable");
        }
    }

    /** Whether listings refresh the directory's attributes first ({@link PolledFile.Policy#forcesSync}). */
    boolean forcesSync() {
        return policy.forcesSync();
    }

    /** How rank 0's small waiter is to read the outcome file ({@link PolledFile.Policy#waiterWord}). */
    String waiterPolicy() {
        return policy.waiterWord();
    }

    /** Polls as on NFS with attribute caching, one open() per poll, whatever the mount (for tests: no NFS here). */
    void byOpenOnly() {
        policy.byOpenOnly();
    }

    /** Closes the step files held open by polls (after the outcome: nothing is polled any more). */
    void close() {
        policy.finish();
        outcome.close();
        endpoint.close();
    }
}
