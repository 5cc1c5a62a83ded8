/**
 * The levels of the Logger interface, shared by every program's
 * `--log-level` (src/cli) and by the winston set-up (src/logging), which
 * cannot import each other.
 */

/** Most severe first: a threshold shows its own level and every one before it. */
export const logLevels = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof logLevels)[number];

export function isLogLevel(text: string): text is LogLevel {
  return (logLevels as readonly string[]).includes(text);
}

/** Whether an event at `level` is shown under the threshold `shownFrom` (`info` shows error, warn and info). */
export function isShownAt(level: LogLevel, shownFrom: LogLevel): boolean {
  return logLevels.indexOf(level) <= logLevels.indexOf(shownFrom);
}
