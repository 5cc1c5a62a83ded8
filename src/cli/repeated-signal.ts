/**
 * One Ctrl-C under npm can arrive twice: from the terminal, to the whole
 * foreground process group, and relayed by npm (or tsx) to its child.
 * Signals this close together count as one press.
 */
export const repeatedSignalWindowMs = 1_000;
