/**
 * The small JSON reader and writer muster owns (no JSON library on the start-up path); the writer lays values out
 * exactly as serde_json's pretty printer does, because hpc-compose's records and output are byte-compared.
 * Imports no other muster package.
 */
package dev.muster.json;
