/**
 * What a task does with the step roster (docs/roster.md): its card's address choice ({@code --address}) and named
 * ports, the roster file {@code MUSTER_ROSTER} names and its removal, and the formats {@code muster roster}
 * prints. The barrier package carries the cards and the roster; this package must not import {@code cli} or
 * {@code agent}.
 */
package dev.muster.roster;
