/**
 * The end of a round: every acknowledged write must still be there. Reads
 * each key the writers touched, linearizably (through the leader, Raft
 * paper §8), and counts the keys whose last acknowledged value is gone.
 */
import type { ZraftClient } from "../client/zraft-client.ts";
import { keepsAcknowledged, type KeyRecord } from "./writers.ts";

export interface Verification {
  /** Keys checked (those with an acknowledged write). */
  readonly checked: number;
  /** Keys whose last acknowledged value was not read back, with what was read. */
  readonly lost: ReadonlyArray<{ readonly key: string; readonly expected: string; readonly read: unknown }>;
}

export async function verifyWrites(client: ZraftClient, keys: ReadonlyMap<string, KeyRecord>): Promise<Verification> {
  const lost: Array<{ key: string; expected: string; read: unknown }> = [];
  let checked = 0;
  for (const [key, record] of keys) {
    if (record.lastAcked === undefined) continue;
    checked += 1;
    const reply = await client.get(key);
    if (!keepsAcknowledged(record, reply.value)) lost.push({ key, expected: record.lastAcked, read: reply.found ? reply.value : null });
  }
  return { checked, lost };
}
