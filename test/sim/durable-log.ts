import { logStart, type Entry, type LogIndex, type LogPosition, type SnapshotMeta, type Term } from "../../src/raft/index.ts";

/** A server's stored snapshot as the checkers know it: where it ends and the history hash its image carries. */
export interface StoredSnapshotRecord {
  readonly meta: SnapshotMeta;
  readonly hash: number;
}

/**
 * What one simulated server's storage holds, mirrored by the simulator as it
 * writes (so that the checkers can look at it without copying the storage on
 * every event): the log after `start`, which compaction or an installed
 * snapshot moves (dissertation ch. 5), and the stored snapshot.
 */
export class DurableLog {
  start: LogPosition = logStart;
  entries: Entry[] = [];
  snapshot: StoredSnapshotRecord | null = null;

  get lastIndex(): LogIndex {
    return this.start.index + this.entries.length;
  }

  /** The stored entry at `index`; undefined at or before the start, and past the end. */
  entry(index: LogIndex): Entry | undefined {
    return index > this.start.index ? this.entries[index - this.start.index - 1] : undefined;
  }

  /** The term at `index`: the start's own term at the start. */
  term(index: LogIndex): Term | undefined {
    return index === this.start.index ? this.start.term : this.entry(index)?.term;
  }

  /** A save of `entries`: the stored log is cut before the first of them, then they follow. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    this.entries.length = Math.min(this.entries.length, first.index - this.start.index - 1);
    for (const entry of entries) this.entries.push(entry);
  }

  /** An installed snapshot: the log is empty after it. */
  restore(snapshot: StoredSnapshotRecord): void {
    this.snapshot = snapshot;
    this.start = snapshot.meta;
    this.entries = [];
  }

  /** Compaction: entries up to `through` leave; the start keeps its term. */
  compact(through: LogIndex): void {
    if (through <= this.start.index) return;
    const term = this.term(through)!;
    this.entries.splice(0, through - this.start.index);
    this.start = { index: through, term };
  }
}
