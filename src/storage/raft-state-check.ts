import type { Entry, EntryType, HardState, LogIndex, LogPosition } from "../raft/index.ts";

// A Record over the union, so that a new entry type fails to compile until it is listed here.
const entryTypes: Readonly<Record<EntryType, true>> = { noop: true, command: true, config: true };

function isEntryType(value: unknown): value is EntryType {
  return typeof value === "string" && Object.hasOwn(entryTypes, value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * Checks that `entries` may follow `previous` in a log: well-formed, indices
 * contiguous from `previous.index + 1`, terms non-decreasing (a leader only
 * appends entries of its own term, §5.3). Returns what is wrong, or null.
 * Used on every save and on the whole log at load, so both refuse the same
 * shapes.
 */
export function findAppendProblem(previous: LogPosition, entries: readonly Entry[]): string | null {
  let before = previous;
  for (const entry of entries) {
    const at = `entry at position ${before.index + 1}`;
    if (entry === null || typeof entry !== "object") return `${at} is not an object`;
    if (entry.index !== before.index + 1) return `${at} has index ${String(entry.index)} (indices must be contiguous)`;
    if (!isCount(entry.term) || entry.term < 1) return `entry ${entry.index} has invalid term ${String(entry.term)}`;
    if (entry.term < before.term) {
      return `entry ${entry.index} has term ${entry.term}, below the term ${before.term} of entry ${before.index}`;
    }
    if (!isEntryType(entry.type)) return `entry ${entry.index} has unknown type ${JSON.stringify(entry.type)}`;
    if (!(entry.data instanceof Uint8Array)) return `entry ${entry.index} has data that is not bytes`;
    before = entry;
  }
  return null;
}

/** Checks a hard state against a log whose last index is `lastIndex`. Returns what is wrong, or null. */
export function findHardStateProblem(hardState: HardState, lastIndex: LogIndex): string | null {
  if (hardState === null || typeof hardState !== "object") return "hard state is not an object";
  const { currentTerm, votedFor, commitIndex } = hardState;
  if (!isCount(currentTerm)) return `hard state has invalid currentTerm ${String(currentTerm)}`;
  if (votedFor !== null && (!isCount(votedFor) || votedFor < 1)) {
    return `hard state has invalid votedFor ${String(votedFor)}`;
  }
  if (!isCount(commitIndex)) return `hard state has invalid commitIndex ${String(commitIndex)}`;
  if (commitIndex > lastIndex) return `hard state has commitIndex ${commitIndex} beyond the last log index ${lastIndex}`;
  return null;
}
