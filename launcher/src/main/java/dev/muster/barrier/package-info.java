/**
 * The step barrier: the step directory, the one-writer claim, the outcome, polled reads, the TCP release path,
 * clean-up and sweep (docs/barrier.md, which also explains the NFS caching the file protocol is shaped by).
 * A library package: must not import {@code cli} or {@code agent}.
 */
package dev.muster.barrier;
