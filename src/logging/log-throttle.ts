import type { Logger } from "../base/logger.ts";

/**
 * Logs at most once per interval for each kind of event and says how many
 * were left out, so that a peer or client flooding bad input cannot flood
 * the log (or slow the server down by logging).
 */
export class LogThrottle {
  private readonly kinds = new Map<string, { lastMs: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** `kind` is a fixed name for the event; the message may vary between occurrences. */
  warn(kind: string, message: string, fields?: Record<string, unknown>): void {
    this.log("warn", kind, message, fields);
  }

  debug(kind: string, message: string, fields?: Record<string, unknown>): void {
    this.log("debug", kind, message, fields);
  }

  private log(level: "warn" | "debug", kind: string, message: string, fields: Record<string, unknown> | undefined): void {
    const now = this.nowMs();
    const state = this.kinds.get(kind);
    if (state !== undefined && now - state.lastMs < this.intervalMs) {
      state.suppressed++;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    this.kinds.set(kind, { lastMs: now, suppressed: 0 });
    this.logger[level](suppressed === 0 ? message : `${message} (and ${suppressed} more like it since the last one)`, fields);
  }
}
