/**
 * Rendezvous between jobs: hpc-compose's records (schema_version 1) in a cache directory, their store, the
 * client's wait, the provider's registrar and Slurm's view of a job (docs/rendezvous.md). Uses {@code core},
 * {@code json} and {@code probe}; must not import {@code barrier}, {@code cli} or {@code agent}.
 */
package dev.muster.rendezvous;
