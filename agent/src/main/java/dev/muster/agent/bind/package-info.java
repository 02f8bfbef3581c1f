/**
 * The agent's byte-buddy part, loaded only for {@code arrive=bind}, {@code await=...} and {@code register} with
 * {@code port=auto}: the advice on socket binds and on the await method, and where it reports. The advice is
 * inlined into JDK and application classes, so it names JDK types only; uses {@code core}, never {@code cli}.
 */
package dev.muster.agent.bind;
