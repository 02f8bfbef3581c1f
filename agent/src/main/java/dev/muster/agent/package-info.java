/**
 * The Java agent ({@code -javaagent:muster-agent.jar}): settings from agent options, {@code -D} and the
 * environment, the gate that holds {@code main} at the step barrier, rendezvous into system properties
 * (docs/agent.md). On top, beside {@code cli}: it uses the library packages, must not import {@code cli}, and
 * loads byte-buddy only through {@code agent.bind}.
 */
package dev.muster.agent;
