/**
 * The core logs through this interface so that it needs no logging library:
 * the server adapts winston to it, the simulator records or silences it.
 * `fields` carry structured context (term, from …).
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const ignore = (): void => {};

export const nullLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
