/**
 * Who this task is: rank, size, local rank, node, job and barrier key from the launcher's variables (Slurm,
 * MPI launchers, Flux, torchrun, {@code muster local}), with the source of every value, and Slurm's node lists.
 * Uses {@code core} only; must not import {@code cli} or {@code agent}.
 */
package dev.muster.task;
