/**
 * What every other package needs: the exit codes, the one failure type ({@code MusterException}), the
 * {@code muster[<rank>]} status lines, the injected clock and the caller's POSIX credentials, opening files under
 * shared directories without blocking ({@code SharedFiles}) and making strings from files safe to print
 * ({@code SafeText}).
 * Imports no other muster package: everything else builds on it.
 */
package dev.muster.core;
