/**
 * The checker the chaos run calls on its recorded history: is there an
 * order of the operations, each placed between its call and its return,
 * in which a register would have given every result that was returned?
 *
 * Pure: no I/O, and no clock unless the caller passes one for elapsedMs.
 */
import { assert } from "../base/assert.ts";
import { explainUnwritten, explainViolation } from "./explain.ts";
import { assertWellFormed, partitionByKey, type HistoryEntry } from "./history.ts";
import { prepareKey } from "./prepare.ts";
import { search } from "./search.ts";

export type CheckResult =
  /** `operations`: the history's entries. */
  | { readonly verdict: "linearizable"; readonly keys: number; readonly operations: number; readonly elapsedMs: number }
  /** `operations`: the entries of the key found not linearizable. */
  | { readonly verdict: "not-linearizable"; readonly key: string; readonly explanation: string; readonly operations: number; readonly elapsedMs: number }
  /** The search exceeded its budget on some key: no verdict. */
  | { readonly verdict: "unknown"; readonly key: string; readonly reason: string; readonly elapsedMs: number };

export interface CheckOptions {
  /** Give up on a key after exploring this many search states (default: a bound that keeps a 60 s chaos history well under a minute on 2 cores). */
  readonly statesMax?: number;
  /** The value every key holds before the history (default null: absent). */
  readonly initialValue?: string | null;
  /**
   * For elapsedMs only: a clock (default: none, elapsedMs = 0). The library itself must stay clock-free; pass performance.now from the caller,
   * bound: `() => performance.now()` (Node's performance.now throws when called detached from `performance`).
   */
  readonly nowMs?: () => number;
}

/**
 * The default budget per key. A search state costs one to three
 * microseconds and a few dozen bytes, so a key that exhausts the budget
 * gives up after a few seconds and under 300 MB; a linearizable key of the
 * chaos run needs about one state per operation (60,000 operations on one
 * key: some 65,000 states), far below it.
 */
export const DEFAULT_STATES_MAX = 1_000_000;

/**
 * Checks each key on its own (see partitionByKey). A key found not
 * linearizable settles the verdict at once; a key whose search ran out of
 * budget does not, since a later key may still show a definite violation.
 */
export function checkLinearizable(history: readonly HistoryEntry[], options: CheckOptions = {}): CheckResult {
  const nowMs = options.nowMs;
  const startMs = nowMs?.() ?? 0;
  const elapsedMs = (): number => (nowMs === undefined ? 0 : nowMs() - startMs);
  const statesMax = options.statesMax ?? DEFAULT_STATES_MAX;
  assert(Number.isInteger(statesMax) && statesMax > 0, `statesMax must be a positive integer, not ${statesMax}`);
  assertWellFormed(history);

  const byKey = partitionByKey(history);
  let undecided: { readonly key: string; readonly reason: string } | undefined;
  for (const [key, entries] of byKey) {
    const keyHistory = prepareKey(key, entries, options.initialValue ?? null);
    if (keyHistory.unwritten !== undefined) {
      return { verdict: "not-linearizable", key, explanation: explainUnwritten(keyHistory, keyHistory.unwritten), operations: entries.length, elapsedMs: elapsedMs() };
    }
    const outcome = search(keyHistory, statesMax);
    switch (outcome.kind) {
      case "linearizable":
        break;
      case "violation":
        return {
          verdict: "not-linearizable",
          key,
          explanation: explainViolation(keyHistory, outcome.longest, outcome.states),
          operations: entries.length,
          elapsedMs: elapsedMs(),
        };
      case "budget":
        undecided ??= {
          key,
          reason:
            `key ${JSON.stringify(key)}: the search gave up after ${outcome.states} states (statesMax ${statesMax}) ` +
            `on ${keyHistory.known.length} completed operations and ${keyHistory.unknown.length} writes of unknown outcome`,
        };
        break;
    }
  }
  if (undecided !== undefined) return { verdict: "unknown", ...undecided, elapsedMs: elapsedMs() };
  return { verdict: "linearizable", keys: byKey.size, operations: history.length, elapsedMs: elapsedMs() };
}
