/**
 * What the bench knows of every key it wrote: the last acknowledged value,
 * and the values written after it whose outcome is unknown (the records of
 * src/failover/writers.ts). During a step each key belongs to one client,
 * whose operations go one at a time, so at the end a read of the key must
 * return its last acknowledged value or one of those unknown ones; anything
 * else is a lost write, and a run that loses data is not a result.
 */
import { keepsAcknowledged, type KeyRecord } from "../failover/writers.ts";
import type { KvTarget } from "./kv-target.ts";

export interface LostWrite {
  readonly key: string;
  readonly expected: string;
  readonly read: string | null;
}

export interface Verification {
  /** Keys read back (those with an acknowledged write). */
  readonly checked: number;
  readonly lost: readonly LostWrite[];
}

/** Readers at once during the final check. */
const verifyConcurrency = 8;

export class WriteLedger {
  readonly #keys = new Map<string, KeyRecord>();

  #record(key: string): KeyRecord {
    let record = this.#keys.get(key);
    if (record === undefined) {
      record = { lastAcked: undefined, unknownAfter: new Set() };
      this.#keys.set(key, record);
    }
    return record;
  }

  acknowledged(key: string, value: string): void {
    const record = this.#record(key);
    record.lastAcked = value;
    record.unknownAfter.clear();
  }

  /** A write of `value` that failed: it may or may not have taken effect. */
  unknown(key: string, value: string): void {
    this.#record(key).unknownAfter.add(value);
  }

  /** The key's value as far as is known for sure: undefined when a write's outcome is unknown, null when never written. */
  known(key: string): string | null | undefined {
    const record = this.#keys.get(key);
    if (record === undefined) return null;
    if (record.unknownAfter.size > 0) return undefined;
    return record.lastAcked ?? null;
  }

  /** Reads every key with an acknowledged write (linearizably) and returns those that lost it. */
  async verify(connect: () => KvTarget): Promise<Verification> {
    const keys = [...this.#keys].filter(([, record]) => record.lastAcked !== undefined);
    const lost: LostWrite[] = [];
    let next = 0;
    const reader = async (): Promise<void> => {
      const target = connect();
      try {
        while (next < keys.length) {
          const [key, record] = keys[next++] as [string, KeyRecord];
          const read = await target.get(key, { stale: false });
          if (!keepsAcknowledged(record, read)) lost.push({ key, expected: record.lastAcked as string, read });
        }
      } finally {
        target.close();
      }
    };
    await Promise.all(Array.from({ length: verifyConcurrency }, reader));
    return { checked: keys.length, lost };
  }
}
