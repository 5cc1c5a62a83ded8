/**
 * The load during a failover round: a few clients, each writing unique
 * values back to back to a handful of keys of its own, and remembering
 * when each write was acknowledged (and in which term), the last value
 * acknowledged per key, and the values written after it whose outcome is
 * unknown. A key belongs to one writer and its writes go one at a time, so
 * after the round a read of it must return its last acknowledged value, or
 * one of the unknown ones written after it; anything else is a lost write.
 */
import type { ZraftClient } from "../client/zraft-client.ts";

/** An acknowledged write: when (performance.now()), and the term of the server that answered. */
export interface Ack {
  readonly atMs: number;
  readonly term: number;
}

/** What the writers know of one key at the end. */
export interface KeyRecord {
  /** The last acknowledged value (undefined if none was). */
  lastAcked: string | undefined;
  /** Values written after it whose outcome is unknown (they may have taken effect). */
  readonly unknownAfter: Set<string>;
}

/** Keys per writer: few enough to read back quickly, enough to spread the writes. */
const keysPerWriter = 8;

export class WriterPool {
  readonly keys = new Map<string, KeyRecord>();
  readonly acks: Ack[] = [];
  /** Writes that failed (their outcome is unknown). */
  failures = 0;
  #stopping = false;
  readonly #loops: Promise<void>[];

  /** Starts one loop per client; keys are named `<prefix>/w<writer>/k<n>`. */
  constructor(clients: readonly ZraftClient[], prefix: string) {
    this.#loops = clients.map((client, writer) => this.#run(client, writer, prefix));
  }

  get acknowledged(): number {
    return this.acks.length;
  }

  /** The first write acknowledged at or after `fromMs` by a server in a term above `term`. */
  firstAckAfter(fromMs: number, term: number): Ack | undefined {
    return this.acks.find((ack) => ack.atMs >= fromMs && ack.term > term);
  }

  /**
   * The longest stretch of [fromMs, toMs] in which no write was
   * acknowledged, counted from the last acknowledgement before fromMs.
   */
  longestPause(fromMs: number, toMs: number): number {
    let previous = fromMs;
    for (const ack of this.acks) if (ack.atMs < fromMs) previous = ack.atMs;
    let longest = 0;
    for (const ack of this.acks) {
      if (ack.atMs < fromMs || ack.atMs > toMs) continue;
      longest = Math.max(longest, ack.atMs - previous);
      previous = ack.atMs;
    }
    return Math.max(longest, toMs - previous);
  }

  /** Lets each writer finish the write it is in, and waits for that. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
  }

  async #run(client: ZraftClient, writer: number, prefix: string): Promise<void> {
    for (let n = 0; !this.#stopping; n++) {
      const key = `${prefix}/w${writer}/k${n % keysPerWriter}`;
      const value = `${prefix}/w${writer}/${n}`;
      let record = this.keys.get(key);
      if (record === undefined) {
        record = { lastAcked: undefined, unknownAfter: new Set() };
        this.keys.set(key, record);
      }
      try {
        const reply = await client.put(key, value);
        this.acks.push({ atMs: performance.now(), term: reply.term });
        record.lastAcked = value;
        record.unknownAfter.clear();
      } catch {
        this.failures += 1;
        record.unknownAfter.add(value);
      }
    }
  }
}

/** Whether `read` (the key's value now) keeps every acknowledged write of `record`. */
export function keepsAcknowledged(record: KeyRecord, read: unknown): boolean {
  if (record.lastAcked === undefined) return true;
  return read === record.lastAcked || (typeof read === "string" && record.unknownAfter.has(read));
}
