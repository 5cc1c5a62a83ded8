/**
 * A recorded history of the chaos run: the operations its clients ran
 * against a key-value register with compare-and-set, each with the time it
 * was invoked and, when known, the time it returned and what it returned.
 * The checker (check.ts) decides whether the history is linearizable.
 */
import { assert } from "../base/assert.ts";

/** The operations the chaos clients run against one key: a register with compare-and-set. Values are strings, unique per write. */
export type KvOperation =
  | { readonly kind: "put"; readonly key: string; readonly value: string }
  | { readonly kind: "get"; readonly key: string }
  | { readonly kind: "cas"; readonly key: string; readonly expect: string | null; readonly value: string };

/** What a completed operation returned. put: nothing; get: the value read (null = absent); cas: whether it swapped. */
export type KvOutput =
  | { readonly kind: "put" }
  | { readonly kind: "get"; readonly value: string | null }
  | { readonly kind: "cas"; readonly swapped: boolean };

export interface HistoryEntry {
  /** The client that ran it; one client runs one operation at a time. */
  readonly process: number;
  readonly op: KvOperation;
  /** When it was invoked, in ms on one monotonic clock. */
  readonly callMs: number;
  /**
   * How it returned; null when the outcome is unknown (a TIMEOUT or a lost connection):
   * the operation may have taken effect at any point after callMs, or never.
   * Operations that definitely failed (e.g. BAD_REQUEST, or NOT_LEADER never retried) are not in the history at all.
   */
  readonly result: { readonly returnMs: number; readonly output: KvOutput } | null;
}

/**
 * The history split into one sub-history per key, each in the history's
 * order, keys in the order they first appear. Registers on different keys
 * are independent objects, so the history is linearizable exactly when
 * every key's sub-history is (Herlihy & Wing 1990, locality), and each key
 * can be searched on its own: a far smaller search than the whole.
 */
export function partitionByKey(history: readonly HistoryEntry[]): ReadonlyMap<string, readonly HistoryEntry[]> {
  const byKey = new Map<string, HistoryEntry[]>();
  for (const entry of history) {
    const entries = byKey.get(entry.op.key);
    if (entries === undefined) byKey.set(entry.op.key, [entry]);
    else entries.push(entry);
  }
  return byKey;
}

/**
 * Throws AssertionError when the history cannot have been recorded by the
 * chaos clients: a bad time, an output of another kind than its operation,
 * or a client running two completed operations at once. Such a history is
 * a bug in the recorder, and any verdict on it would mislead.
 */
export function assertWellFormed(history: readonly HistoryEntry[]): void {
  const lastReturnMs = new Map<number, { readonly returnMs: number; readonly index: number }>();
  const byCall = history.map((entry, index) => ({ entry, index })).sort((a, b) => a.entry.callMs - b.entry.callMs || a.index - b.index);
  for (const { entry, index } of byCall) {
    const where = `history[${index}] (process ${entry.process})`;
    assert(Number.isFinite(entry.callMs), `${where}: callMs ${entry.callMs} is not a finite number`);
    assert(Number.isInteger(entry.process), `${where}: process must be an integer`);
    if (entry.result === null) continue;
    const { returnMs, output } = entry.result;
    assert(Number.isFinite(returnMs) && returnMs >= entry.callMs, `${where}: returnMs ${returnMs} is not a time at or after callMs ${entry.callMs}`);
    assert(output.kind === entry.op.kind, `${where}: a ${entry.op.kind} returned a ${output.kind} output`);
    // An operation whose outcome is unknown was abandoned by its client,
    // which went on with the next one: only completed operations exclude
    // each other.
    const previous = lastReturnMs.get(entry.process);
    assert(
      previous === undefined || previous.returnMs <= entry.callMs,
      `${where}: called at ${entry.callMs} ms while history[${previous?.index}] of the same process ran until ${previous?.returnMs} ms`,
    );
    lastReturnMs.set(entry.process, { returnMs, index });
  }
}
