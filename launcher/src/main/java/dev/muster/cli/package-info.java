/**
 * The {@code muster} command line: a class per command, flag parsing, help texts, and the only
 * {@code System.exit}. On top: it may use every library package; it must not import {@code agent}, and no other
 * package imports it, so protocol rules live in the library, not here.
 */
package dev.muster.cli;
