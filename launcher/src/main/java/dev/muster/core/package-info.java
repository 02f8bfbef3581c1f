/**
 * What every other package needs: the exit codes, the one failure type ({@code MusterException}), the
 * {@code muster[<rank>]} status lines, the injected clock and the caller's POSIX credentials.
 * Imports no other muster package: everything else builds on it.
 */
package dev.muster.core;
