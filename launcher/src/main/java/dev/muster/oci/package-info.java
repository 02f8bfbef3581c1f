/**
 * muster as an OCI runtime hook (docs/oci-hook.md): the container state a runtime passes on stdin, the bundle's
 * {@code config.json} (the container's environment and user) read without following links, and the switch from
 * the runtime's root to the container's user. It reads and decides; the barrier is {@code barrier}'s, and the
 * command that wires the two together is {@code cli.HookCommand}. A library package: must not import {@code cli}
 * or {@code agent}.
 */
package dev.muster.oci;
