/**
 * Why a key is not linearizable, in words a person can check against the
 * history: how far the search got (the longest linearizable prefix it
 * found), what the register held there, and which operations could not go
 * next, each with what it returned and why the register refuses it.
 */
import type { HistoryEntry } from "./history.ts";
import { isReadOnly, Step, type ValueId } from "./model.ts";
import type { KeyHistory, KeyOperation } from "./prepare.ts";

/** How many operations of the prefix to show: the end of it is where the trouble is. */
const PREFIX_SHOWN = 12;
/** How many unplaceable operations to list before summing up the rest. */
const BLOCKED_SHOWN = 20;

/** One operation on one line: who ran it, when, what it did and returned. */
export function describeEntry(entry: HistoryEntry): string {
  const { op, result } = entry;
  const when = `[${entry.callMs} .. ${result === null ? "?" : result.returnMs} ms]`;
  let what: string;
  switch (op.kind) {
    case "put":
      what = `put ${show(op.value)}`;
      break;
    case "get":
      what = `get -> ${result?.output.kind === "get" ? show(result.output.value) : "?"}`;
      break;
    case "cas":
      what = `cas ${show(op.expect)} -> ${show(op.value)}, ${result?.output.kind === "cas" ? (result.output.swapped ? "swapped" : "not swapped") : "?"}`;
      break;
  }
  return `process ${entry.process} ${when} ${what}${result === null ? " (outcome unknown)" : ""}`;
}

export function explainViolation(history: KeyHistory, longest: readonly KeyOperation[], states: number): string {
  const value = (id: ValueId): string => show(history.values.valueOf(id));
  let state = history.initial;
  for (const operation of longest) if (!isReadOnly(operation)) state = operation.written;

  const placed = new Set(longest);
  const unplaced = history.known.filter((operation) => !placed.has(operation));
  const firstReturnMs = unplaced.reduce((earliest, operation) => Math.min(earliest, operation.returnMs), Infinity);
  const blocked = unplaced.filter((operation) => operation.callMs <= firstReturnMs);
  const pendingUnknown = history.unknown.filter((operation) => !placed.has(operation) && operation.callMs <= firstReturnMs).length;
  const pending = [...unplaced, ...history.unknown.filter((operation) => !placed.has(operation))];

  const lines = [
    `key ${show(history.key)}: no order of its ${history.known.length} completed operations` +
      (history.unknown.length > 0 ? ` (and any of ${history.unknown.length} writes of unknown outcome)` : "") +
      ` fits both their times and a register (${count(states, "configuration")} searched).`,
    ...(longest.length === 0
      ? []
      : [
          `The longest linearizable prefix found places ${count(longest.length, "operation")}` + (longest.length > PREFIX_SHOWN ? `; the last ${PREFIX_SHOWN}:` : ":"),
          ...longest.slice(-PREFIX_SHOWN).map((operation, index, shown) => `  ${longest.length - shown.length + index + 1}. ${describeEntry(operation.entry)}`),
        ]),
    `${longest.length === 0 ? "The register starts as" : "After it the register holds"} ${value(state)}. ` +
      `None of these operations, all called by ${firstReturnMs} ms (the earliest return among those not placed), can go ${longest.length === 0 ? "first" : "next"}:`,
    ...blocked.slice(0, BLOCKED_SHOWN).map((operation) => `  ${describeEntry(operation.entry)}: ${refusal(operation, state, value, pending)}`),
    ...(blocked.length > BLOCKED_SHOWN ? [`  ... and ${blocked.length - BLOCKED_SHOWN} more`] : []),
    ...(pendingUnknown > 0 ? [`(${count(pendingUnknown, "write")} of unknown outcome, called by then, were pending too; none leads further.)`] : []),
  ];
  return lines.join("\n");
}

export function explainUnwritten(history: KeyHistory, operation: KeyOperation): string {
  const seen = show(history.values.valueOf(operation.observed));
  return [
    `key ${show(history.key)}: an operation saw ${seen}, which no put or cas of this key wrote and the key did not hold at the start:`,
    `  ${describeEntry(operation.entry)}`,
  ].join("\n");
}

/** Why the register, holding `state`, does not accept `operation` next (`pending`: the operations not placed). */
function refusal(operation: KeyOperation, state: ValueId, value: (id: ValueId) => string, pending: readonly KeyOperation[]): string {
  switch (operation.step) {
    case Step.get:
      if (operation.observed !== state) return `it read ${value(operation.observed)}, but the register holds ${value(state)}`;
      break;
    case Step.casSwapped:
      if (operation.observed !== state) return `it swapped, so the register held ${value(operation.observed)}, but it holds ${value(state)}`;
      break;
    case Step.casFailed:
      if (operation.observed === state) return `it did not swap, yet the register holds ${value(state)}, the value it expected`;
      break;
  }
  if (!isReadOnly(operation) && operation.written !== state) {
    // The search turns back when a write would leave a read with no way to
    // see its value (see demand.ts): say which read.
    const needs = (other: KeyOperation): boolean => other !== operation && (other.step === Step.get || other.step === Step.casSwapped) && other.observed === state;
    const rewrites = (other: KeyOperation): boolean => other !== operation && !isReadOnly(other) && other.written === state;
    const reader = pending.find(needs);
    if (reader !== undefined && !pending.some(rewrites)) {
      return `it would replace ${value(state)} for good, yet this still has to see it: ${describeEntry(reader.entry)}`;
    }
  }
  return "the register allows it, but no way on from there places every operation";
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function show(value: string | null): string {
  return value === null ? "absent" : JSON.stringify(value);
}
