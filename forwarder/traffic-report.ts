import type { RelayCounters } from "./message-relay.ts";

/** One line for the forwarder's log. */
export interface ReportLine {
  readonly level: "info" | "debug";
  readonly text: string;
}

/**
 * What the forwarder says about its traffic, checked about once a second:
 * at info only what changes (a server joins or leaves the bus, traffic stops
 * or starts again), so that an idle cluster's forwarder is silent at info;
 * the message rate every `rateIntervalMs`, at debug. Pure: the caller
 * passes the time and the relay's state and logs the lines.
 */
export class TrafficReport {
  #servers: ReadonlySet<number> = new Set();
  #reported: RelayCounters;
  #reportedAtMs: number;
  /** When the last interval with messages ended; null until the first such interval. */
  #lastTrafficMs: number | null = null;
  #quiet = false;

  constructor(
    startMs: number,
    counters: RelayCounters,
    private readonly rateIntervalMs = 5_000,
  ) {
    this.#reported = counters;
    this.#reportedAtMs = startMs;
  }

  next(nowMs: number, counters: RelayCounters, servers: ReadonlySet<number>): ReportLine[] {
    const lines = this.#membership(servers);
    if (nowMs - this.#reportedAtMs >= this.rateIntervalMs) {
      lines.push(...this.#traffic(nowMs, counters));
      this.#reported = counters;
      this.#reportedAtMs = nowMs;
    }
    return lines;
  }

  #membership(servers: ReadonlySet<number>): ReportLine[] {
    const now = [...servers].sort((a, b) => a - b);
    const joined = now.filter((id) => !this.#servers.has(id));
    const left = [...this.#servers].filter((id) => !servers.has(id)).sort((a, b) => a - b);
    this.#servers = new Set(servers);
    const onBus = `${now.length} on the bus${now.length === 0 ? "" : ` (${now.join(", ")})`}`;
    const line = (ids: readonly number[], verb: string): ReportLine[] =>
      ids.length === 0 ? [] : [{ level: "info", text: `${ids.length === 1 ? "server" : "servers"} ${ids.join(", ")} ${verb}: ${onBus}` }];
    return [...line(joined, "joined"), ...line(left, "left")];
  }

  #traffic(nowMs: number, counters: RelayCounters): ReportLine[] {
    const seconds = (nowMs - this.#reportedAtMs) / 1000;
    if (counters.messages === this.#reported.messages) {
      if (this.#quiet || this.#lastTrafficMs === null) return [];
      this.#quiet = true;
      return [{ level: "info", text: `no messages for ${seconds.toFixed(0)} s (${counters.messages} relayed in all)` }];
    }
    const lines: ReportLine[] = [];
    if (this.#quiet && this.#lastTrafficMs !== null) {
      lines.push({ level: "info", text: `messages again, after ${((nowMs - this.#lastTrafficMs) / 1000).toFixed(0)} s without` });
    }
    this.#quiet = false;
    this.#lastTrafficMs = nowMs;
    lines.push({ level: "debug", text: describeRate(counters, this.#reported, seconds) });
    return lines;
  }
}

function describeRate(now: RelayCounters, before: RelayCounters, seconds: number): string {
  const messages = now.messages - before.messages;
  const kib = (now.bytes - before.bytes) / 1024;
  const subscriptions = now.subscriptionChanges - before.subscriptionChanges;
  return (
    `relayed ${messages} messages in ${seconds.toFixed(0)} s (${(messages / seconds).toFixed(1)}/s, ${(kib / seconds).toFixed(1)} KiB/s)` +
    (subscriptions > 0 ? `, ${subscriptions} subscription changes` : "") +
    (now.dropped > before.dropped ? `, ${now.dropped - before.dropped} dropped by fault rules` : "") +
    (now.delayed > before.delayed ? `, ${now.delayed - before.delayed} delayed by fault rules` : "") +
    `; ${now.messages} in all`
  );
}
