/**
 * Readiness probes ({@code tcp:}, {@code http[s]://}, {@code file:}, {@code cmd:}) shared by {@code --arrive-when},
 * {@code run --register} and the agent (docs/services.md). Uses {@code core} only; must not import {@code cli}
 * or {@code agent}.
 */
package dev.muster.probe;
