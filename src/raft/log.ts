import { assert } from "../base/assert.ts";
import type { Entry, LogIndex, Term } from "./types.ts";

/**
 * The replicated log as one server holds it in memory, with the marks that
 * say how much of it is durable, committed and handed out for applying.
 *
 * Invariants (checked by `checkInvariants`):
 *   entries[i].index === i + 1 (indices are contiguous from 1; compaction will add an offset);
 *   terms never decrease along the log;
 *   lastApplied <= commitIndex <= lastIndex;
 *   stableIndex <= lastIndex, and entries (stableIndex, lastIndex] are not yet durable.
 */
export class RaftLog {
  private readonly entries: Entry[];
  /** Highest index known to be committed (§5.3); never decreases. */
  commitIndex: LogIndex;
  /** Highest index handed to the runtime to apply; never decreases. */
  lastApplied: LogIndex = 0;
  /** The durable prefix: entries up to here are on stable storage and match this log. */
  stableIndex: LogIndex;

  constructor(durableEntries: readonly Entry[], commitIndex: LogIndex) {
    this.entries = [...durableEntries];
    this.stableIndex = this.entries.length;
    this.commitIndex = commitIndex;
    this.checkInvariants();
  }

  lastIndex(): LogIndex {
    return this.entries.length;
  }

  lastTerm(): Term {
    return this.entries.at(-1)?.term ?? 0;
  }

  /** The term of the entry at `index`; 0 for index 0; undefined past the end. */
  term(index: LogIndex): Term | undefined {
    if (index === 0) return 0;
    return this.entries[index - 1]?.term;
  }

  entry(index: LogIndex): Entry | undefined {
    return this.entries[index - 1];
  }

  /** Entries from `from` on, at most `countMax` of them and about `bytesMax` bytes (at least one). */
  slice(from: LogIndex, countMax: number, bytesMax: number): Entry[] {
    assert(from >= 1, `slice from ${from}`);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = from; index <= this.lastIndex() && result.length < countMax; index++) {
      const entry = this.entries[index - 1]!;
      bytes += entry.data.length + entryOverheadBytes;
      if (result.length > 0 && bytes > bytesMax) break;
      result.push(entry);
    }
    return result;
  }

  /** All entries, for the simulator's checkers. */
  all(): readonly Entry[] {
    return this.entries;
  }

  /** The leader's append of its own new entries. */
  append(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, `append at ${entry.index} after ${this.lastIndex()}`);
    assert(entry.term >= this.lastTerm(), `append of term ${entry.term} after term ${this.lastTerm()}`);
    this.entries.push(entry);
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    return this.term(index) === term;
  }

  /** The index of the first of `entries` whose term differs from this log's at that index; 0 when none does. */
  firstConflict(entries: readonly Entry[]): LogIndex {
    for (const entry of entries) {
      const existing = this.term(entry.index);
      if (existing === undefined) return 0;
      if (existing !== entry.term) return entry.index;
    }
    return 0;
  }

  /**
   * The follower's side of AppendEntries after the consistency check passed
   * (§5.3): skip entries already present, truncate at the first conflicting
   * one, append the rest. Entries that merely repeat what is here are never
   * truncated, so a delayed or duplicated message cannot undo newer appends.
   * Returns the last index now known to match the leader.
   */
  appendAfter(prevLogIndex: LogIndex, entries: readonly Entry[]): LogIndex {
    assert(prevLogIndex <= this.lastIndex(), `appendAfter ${prevLogIndex} beyond last ${this.lastIndex()}`);
    entries.forEach((entry, i) => assert(entry.index === prevLogIndex + 1 + i, "entries of one AppendEntries must be contiguous"));
    const conflict = this.firstConflict(entries);
    if (conflict !== 0) {
      // Log Matching + Leader Completeness: a committed entry never conflicts with a leader's log.
      assert(conflict > this.commitIndex, `conflict at ${conflict} at or below commit ${this.commitIndex}`);
      this.truncateFrom(conflict);
    }
    for (const entry of entries) if (entry.index > this.lastIndex()) this.append(entry);
    return prevLogIndex + entries.length;
  }

  private truncateFrom(index: LogIndex): void {
    this.entries.length = index - 1;
    this.stableIndex = Math.min(this.stableIndex, index - 1);
  }

  /**
   * The hint a follower returns with a rejection, so the leader can skip a
   * whole term per round trip instead of one entry (§5.3, end of section).
   */
  conflictHint(rejectedIndex: LogIndex): { conflictTerm: Term; conflictIndex: LogIndex } {
    const term = this.term(rejectedIndex);
    if (term === undefined) return { conflictTerm: 0, conflictIndex: this.lastIndex() + 1 };
    let first = rejectedIndex;
    // Never point below the commit index: everything up to it matches any leader.
    while (first - 1 > this.commitIndex && this.term(first - 1) === term) first--;
    return { conflictTerm: term, conflictIndex: Math.max(first, 1) };
  }

  /** The last index holding `term`, or 0 when this log has no entry of that term. */
  lastIndexOfTerm(term: Term): LogIndex {
    for (let index = this.lastIndex(); index > 0; index--) {
      const t = this.entries[index - 1]!.term;
      if (t === term) return index;
      if (t < term) return 0;
    }
    return 0;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as this one. */
  isUpToDate(lastLogIndex: LogIndex, lastLogTerm: Term): boolean {
    const myTerm = this.lastTerm();
    return lastLogTerm > myTerm || (lastLogTerm === myTerm && lastLogIndex >= this.lastIndex());
  }

  commitTo(index: LogIndex): boolean {
    if (index <= this.commitIndex) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last ${this.lastIndex()}`);
    this.commitIndex = index;
    return true;
  }

  hasUnstable(): boolean {
    return this.stableIndex < this.entries.length;
  }

  /** Entries not yet durable, to be written by the next Ready. */
  unstableEntries(): Entry[] {
    return this.entries.slice(this.stableIndex);
  }

  /**
   * Marks entries up to `entry` durable, unless the log changed under the
   * write: by Log Matching, an equal term at that index means an equal prefix.
   */
  stableTo(entry: Entry): void {
    if (this.term(entry.index) === entry.term) this.stableIndex = Math.max(this.stableIndex, entry.index);
  }

  /** Committed entries not yet handed out, at most `countMax`. */
  nextCommitted(countMax: number): Entry[] {
    const end = Math.min(this.commitIndex, this.lastApplied + countMax);
    return this.entries.slice(this.lastApplied, end);
  }

  hasNextCommitted(): boolean {
    return this.commitIndex > this.lastApplied;
  }

  appliedTo(index: LogIndex): void {
    assert(index <= this.commitIndex, `applied ${index} beyond commit ${this.commitIndex}`);
    assert(index >= this.lastApplied, `applied moved back from ${this.lastApplied} to ${index}`);
    this.lastApplied = index;
  }

  checkInvariants(): void {
    let previousTerm = 0;
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      // Checked before asserting: building a message per entry would dominate long simulations.
      if (entry.index !== i + 1) assert(false, `entry at position ${i} has index ${entry.index}`);
      if (entry.term < previousTerm) assert(false, `term decreases at index ${entry.index}`);
      previousTerm = entry.term;
    }
    assert(this.lastApplied <= this.commitIndex, `lastApplied ${this.lastApplied} > commitIndex ${this.commitIndex}`);
    assert(this.commitIndex <= this.lastIndex(), `commitIndex ${this.commitIndex} > lastIndex ${this.lastIndex()}`);
    assert(this.stableIndex <= this.lastIndex(), `stableIndex ${this.stableIndex} > lastIndex ${this.lastIndex()}`);
  }
}

/** What an entry costs in an AppendEntries besides its data: index, term, type, framing. */
const entryOverheadBytes = 24;
