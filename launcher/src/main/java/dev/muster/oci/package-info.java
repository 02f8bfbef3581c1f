/**
 * muster as an OCI runtime hook (DESIGN §11, docs/oci-hook.md): the container state a runtime passes on stdin,
 * the bundle's {@code config.json} (the container's environment and user), and the switch from the runtime's
 * root to the container's user. It reads and decides; the barrier itself is {@code dev.muster.barrier}'s, and
 * the command that wires the two together lives in {@code dev.muster.cli}. Must not import {@code cli}.
 */
package dev.muster.oci;
