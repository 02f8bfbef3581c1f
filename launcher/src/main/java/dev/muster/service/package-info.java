/**
 * Services a task starts before it arrives ({@code --start}, {@code --arrive-when}) and the detached supervisor
 * that stops them with the task (docs/services.md). Uses {@code core}, {@code exec} and {@code probe}; must not
 * import {@code cli} or {@code agent}.
 */
package dev.muster.service;
