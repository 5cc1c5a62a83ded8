/**
 * Turns one key's sub-history into what the search works on: operations in
 * the order of their calls, values as ValueIds, completed operations apart
 * from those whose outcome is unknown, and the unknown ones that cannot
 * matter left out.
 */
import type { HistoryEntry } from "./history.ts";
import { Step, ValueTable, isReadOnly, type ModelOp, type ValueId } from "./model.ts";

export interface KeyOperation extends ModelOp {
  readonly entry: HistoryEntry;
  readonly callMs: number;
  /** +Infinity when the outcome is unknown: it may take effect at any later point. */
  readonly returnMs: number;
}

export interface KeyHistory {
  readonly key: string;
  /** The key's entries in the history, dropped ones included. */
  readonly entries: number;
  /** The completed operations, by call time (ties in history order). */
  readonly known: readonly KeyOperation[];
  /** The unknown-outcome writes that might explain something, by call time. */
  readonly unknown: readonly KeyOperation[];
  readonly values: Pick<ValueTable, "valueOf">;
  readonly initial: ValueId;
  /**
   * A completed get that read, or a cas that swapped on, a value that
   * neither the initial state nor any write of the key holds: no search is
   * needed to know the key is not linearizable.
   */
  readonly unwritten: KeyOperation | undefined;
}

export function prepareKey(key: string, entries: readonly HistoryEntry[], initialValue: string | null): KeyHistory {
  const values = new ValueTable();
  const initial = values.idOf(initialValue);
  const operations: KeyOperation[] = [];
  for (const entry of entries) {
    const { op, result } = entry;
    // A get whose answer never came back constrains nothing.
    if (result === null && op.kind === "get") continue;
    operations.push({ entry, callMs: entry.callMs, returnMs: result?.returnMs ?? Infinity, ...modelOp(entry, values) });
  }
  operations.sort((a, b) => a.callMs - b.callMs);

  const known = operations.filter((operation) => operation.returnMs !== Infinity);
  const unknown = observableWrites(operations);
  return { key, entries: entries.length, known, unknown, values, initial, unwritten: readOfUnwritten(known, operations, initial) };
}

function modelOp(entry: HistoryEntry, values: ValueTable): ModelOp {
  const { op, result } = entry;
  const output = result?.output;
  switch (op.kind) {
    case "put":
      return { step: output === undefined ? Step.maybePut : Step.put, observed: 0, written: values.idOf(op.value) };
    case "get":
      return { step: Step.get, observed: values.idOf(output?.kind === "get" ? output.value : null), written: 0 };
    case "cas": {
      const step = output?.kind !== "cas" ? Step.maybeCas : output.swapped ? Step.casSwapped : Step.casFailed;
      return { step, observed: values.idOf(op.expect), written: values.idOf(op.value) };
    }
  }
}

/**
 * The unknown-outcome writes that could ever be placed in a linearization
 * the search looks for. Such a write is placed only right before an
 * operation that observes it (see apply() in model.ts): a get or cas naming
 * its value, or a cas that did not swap, which must then still be running
 * after the write's call. Without one, the write may as well never have
 * happened, and leaving it out spares the search from carrying it along.
 */
function observableWrites(operations: readonly KeyOperation[]): KeyOperation[] {
  let lastFailedCasMs = -Infinity;
  const lastObservedMs = new Map<ValueId, number>();
  for (const operation of operations) {
    if (operation.step === Step.casFailed) lastFailedCasMs = Math.max(lastFailedCasMs, operation.returnMs);
    if (operation.step === Step.put || operation.step === Step.maybePut) continue;
    lastObservedMs.set(operation.observed, Math.max(lastObservedMs.get(operation.observed) ?? -Infinity, operation.returnMs));
  }
  return operations.filter(
    (operation) =>
      operation.returnMs === Infinity &&
      (lastFailedCasMs >= operation.callMs || (lastObservedMs.get(operation.written) ?? -Infinity) >= operation.callMs),
  );
}

function readOfUnwritten(known: readonly KeyOperation[], operations: readonly KeyOperation[], initial: ValueId): KeyOperation | undefined {
  const written = new Set<ValueId>([initial]);
  for (const operation of operations) if (!isReadOnly(operation)) written.add(operation.written);
  return known.find((operation) => (operation.step === Step.get || operation.step === Step.casSwapped) && !written.has(operation.observed));
}
