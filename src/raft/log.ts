import { assert } from "../base/assert.ts";
import { entryBytes, type LogStorage, takeWithin } from "./log-storage.ts";
import { logStart, type Entry, type LogIndex, type LogPosition, type SnapshotMeta, type Term } from "./types.ts";
import type { SnapshotChunk } from "./log-storage.ts";

/**
 * The replicated log as one server sees it, with the marks that say how much
 * of it is durable, committed and handed out for applying.
 *
 * Only a tail is held in memory (docs/architecture.md §2): entries after
 * `offset`. Those at or below it are durable, and read back from `storage`
 * when asked for: they were older than the tail loaded at start-up, or left
 * memory once durable and applied. Entries leave, oldest first, once the
 * entries held count for more than `tailBytesMax` (entryBytes), down to
 * three quarters of it (releaseOld), so memory
 * holds what is not yet durable or applied plus a bounded tail of recent
 * entries, which is all a follower that keeps up ever needs. An applied
 * entry is committed, and no truncation reaches a committed entry (§5.3), so
 * what storage holds below `offset` stays the log.
 *
 * The log need not begin at index 1 (dissertation ch. 5): once a snapshot of
 * the state machine is stored, entries up to `start` are dropped (compact)
 * or, on a follower that installed a leader's snapshot, never held
 * (restore). Everything up to `start` is committed and applied, so no
 * question about those entries needs their bytes: `start`'s own term is
 * kept, for the consistency check of the entry after it (§5.3).
 *
 * Invariants (checked by `checkInvariants`):
 *   entries[i].index === offset + i + 1 (indices are contiguous);
 *   start.index <= offset, and start.index <= snapshot.index <= lastApplied;
 *   terms never decrease along the log;
 *   lastApplied <= commitIndex <= lastIndex;
 *   offset <= stableIndex <= lastIndex, and entries (stableIndex, lastIndex] are not yet durable.
 */
export class RaftLog {
  /** The entries after `offset`, in order. */
  private readonly entries: Entry[];
  /** Entries up to here are read from storage. At start-up, the index before the tail storage loaded. */
  private offset: LogIndex;
  /** The position before the first entry the log holds; entries up to it are gone (compacted, or replaced by a snapshot). */
  start: LogPosition;
  /** Where the latest stored snapshot ends (logStart when there is none): what a follower behind `start` is sent. */
  snapshot: SnapshotMeta;
  /** The entryBytes of everything in `entries`. */
  private bytesHeld = 0;
  /** Highest index known to be committed (§5.3); never decreases. */
  commitIndex: LogIndex;
  /** Highest index handed to the runtime to apply; never decreases. */
  lastApplied: LogIndex = 0;
  /** The durable prefix: entries up to here are on stable storage and match this log. */
  stableIndex: LogIndex;

  /**
   * `durableTail` is the end of the durable log as storage loaded it (all of
   * it when short; empty on a new server); `storage` holds what comes before,
   * back to `start`. Without a storage the whole log stays in memory, and
   * `durableTail` must be all of it. `snapshot` is the stored snapshot, from
   * which the runtime restored the state machine: applying resumes after it.
   */
  constructor(
    durableTail: readonly Entry[],
    commitIndex: LogIndex,
    private readonly storage: LogStorage | null,
    private readonly tailBytesMax: number,
    start: LogPosition = logStart,
    snapshot: SnapshotMeta = logStart,
  ) {
    this.entries = [...durableTail];
    this.start = start;
    this.snapshot = snapshot;
    this.offset = (durableTail[0]?.index ?? start.index + 1) - 1;
    assert(storage !== null || this.offset === 0, `a log from index ${this.offset + 1} needs the storage of what precedes it`);
    for (const entry of this.entries) this.bytesHeld += entryBytes(entry);
    this.stableIndex = this.lastIndex();
    // A snapshot holds only committed entries; the commit index is saved lazily and may trail it.
    this.commitIndex = Math.max(commitIndex, snapshot.index);
    this.lastApplied = snapshot.index;
    this.checkInvariants();
  }

  lastIndex(): LogIndex {
    return this.offset + this.entries.length;
  }

  lastTerm(): Term {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of the entry at `index`; `start`'s term at `start`; undefined past the end or before `start`. */
  term(index: LogIndex): Term | undefined {
    if (index === this.start.index) return this.start.term;
    if (index > this.lastIndex() || index < this.start.index) return undefined;
    if (index <= this.offset) return this.storage!.term(index);
    return this.entries[index - this.offset - 1]!.term;
  }

  /**
   * Entries from `from` on, at most `countMax` of them and about `bytesMax`
   * bytes (at least one when `from` is in the log). A batch that starts in
   * storage ends where memory begins.
   */
  slice(from: LogIndex, countMax: number, bytesMax: number): readonly Entry[] {
    assert(from > this.start.index, `slice from ${from}, but the log starts after ${this.start.index}`);
    const to = Math.min(this.lastIndex(), from + countMax - 1);
    if (from > to) return [];
    if (from <= this.offset) return this.storage!.entries(from, Math.min(to, this.offset), bytesMax);
    return takeWithin(this.entries.slice(from - this.offset - 1, to - this.offset), bytesMax);
  }

  /** The entry at `index`, read from storage when below the tail; undefined outside the log. */
  entry(index: LogIndex): Entry | undefined {
    if (index <= this.start.index || index > this.lastIndex()) return undefined;
    return index <= this.offset ? this.storage!.entries(index, index, 0)[0] : this.entries[index - this.offset - 1];
  }

  /**
   * The whole log, what lies below the tail read back from storage: for
   * tests and the simulator's checkers (it costs the log's length).
   */
  all(): readonly Entry[] {
    if (this.offset === this.start.index) return this.entries;
    return [...this.storage!.entries(this.start.index + 1, this.offset, Number.POSITIVE_INFINITY), ...this.entries];
  }

  /** The leader's append of its own new entries. */
  append(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, `append at ${entry.index} after ${this.lastIndex()}`);
    assert(entry.term >= this.lastTerm(), `append of term ${entry.term} after term ${this.lastTerm()}`);
    this.entries.push(entry);
    this.bytesHeld += entryBytes(entry);
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
   * Returns the last index now known to match the leader, and the first
   * index whose entry is new here (the log changed from it on).
   */
  appendAfter(prevLogIndex: LogIndex, entries: readonly Entry[]): { readonly matchIndex: LogIndex; readonly firstNew: LogIndex } {
    assert(prevLogIndex <= this.lastIndex(), `appendAfter ${prevLogIndex} beyond last ${this.lastIndex()}`);
    assert(prevLogIndex >= this.start.index, `appendAfter ${prevLogIndex} before the log's start ${this.start.index}`);
    entries.forEach((entry, i) => assert(entry.index === prevLogIndex + 1 + i, "entries of one AppendEntries must be contiguous"));
    const conflict = this.firstConflict(entries);
    if (conflict !== 0) {
      // Log Matching + Leader Completeness: a committed entry never conflicts with a leader's log.
      assert(conflict > this.commitIndex, `conflict at ${conflict} at or below commit ${this.commitIndex}`);
      this.truncateFrom(conflict);
    }
    const firstNew = this.lastIndex() + 1;
    for (const entry of entries) if (entry.index > this.lastIndex()) this.append(entry);
    return { matchIndex: prevLogIndex + entries.length, firstNew };
  }

  private truncateFrom(index: LogIndex): void {
    // Below `offset` only entries never loaded can be cut (a tail loaded at start-up may begin above the
    // commit index); storage drops them with the next save, whose entries start at `index`.
    const keep = Math.max(0, index - 1 - this.offset);
    for (const entry of this.entries.slice(keep)) this.bytesHeld -= entryBytes(entry);
    this.entries.length = keep;
    this.offset = Math.min(this.offset, index - 1);
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
    // Terms never decrease along the log, so a binary search finds the last index at or below `term`
    // in a few lookups, even when they reach storage.
    let low = this.start.index;
    let high = this.lastIndex();
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (this.term(middle)! <= term) low = middle;
      else high = middle - 1;
    }
    return low > 0 && this.term(low) === term ? low : 0;
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
    return this.stableIndex < this.lastIndex();
  }

  /** Entries not yet durable, to be written by the next Ready. */
  unstableEntries(): Entry[] {
    return this.entries.slice(this.stableIndex - this.offset);
  }

  /**
   * Marks entries up to `entry` durable, unless the log changed under the
   * write: by Log Matching, an equal term at that index means an equal prefix.
   */
  stableTo(entry: Entry): void {
    if (this.term(entry.index) === entry.term) this.stableIndex = Math.max(this.stableIndex, entry.index);
    this.releaseOld();
  }

  /**
   * Committed entries not yet handed out: at most `countMax`, and about the
   * tail's bound in bytes, so that a replay read from storage holds no more
   * than that at once (fewer when they start in storage, see slice).
   */
  nextCommitted(countMax: number): readonly Entry[] {
    const count = Math.min(countMax, this.commitIndex - this.lastApplied);
    return count > 0 ? this.slice(this.lastApplied + 1, count, this.tailBytesMax) : [];
  }

  hasNextCommitted(): boolean {
    return this.commitIndex > this.lastApplied;
  }

  /** Entries up to `index` were applied: by then a snapshot installed meanwhile may have carried the log past them. */
  appliedTo(index: LogIndex): void {
    assert(index <= this.commitIndex, `applied ${index} beyond commit ${this.commitIndex}`);
    this.lastApplied = Math.max(this.lastApplied, index);
    this.releaseOld();
  }

  /**
   * Dissertation §5.1: a snapshot up to `snapshot` is stored, so entries up to
   * `through` (a margin below it, for followers only a little behind) leave
   * the log; storage drops them next. The snapshot was taken of the applied
   * state, and only durable entries can be dropped from storage.
   */
  compact(snapshot: SnapshotMeta, through: LogIndex): void {
    assert(snapshot.index <= this.lastApplied && snapshot.index <= this.stableIndex, `a snapshot at ${snapshot.index} past what is applied and durable`);
    assert(snapshot.index >= this.snapshot.index, `a snapshot at ${snapshot.index} older than the one at ${this.snapshot.index}`);
    assert(this.term(snapshot.index) === snapshot.term, `a snapshot at ${snapshot.index} of term ${snapshot.term} that is not in the log`);
    assert(through <= snapshot.index, `compaction through ${through} past the snapshot at ${snapshot.index}`);
    this.snapshot = snapshot;
    if (through <= this.start.index) return;
    this.start = { index: through, term: this.term(through)! };
    if (through > this.offset) this.dropHeld(through - this.offset);
  }

  /**
   * A follower installs a leader's snapshot that goes past its commit index
   * (dissertation §5.1, Figure 5.3 "discard the entire log"): the log is
   * empty after it, and the state machine is restored from it before
   * anything later is applied. No entry after it is kept even when it
   * matches: the leader sends them again, and storage replaces the whole log.
   */
  restore(snapshot: SnapshotMeta): void {
    assert(snapshot.index > this.commitIndex, `a snapshot at ${snapshot.index} installed at or below commit ${this.commitIndex}`);
    this.entries.length = 0;
    this.bytesHeld = 0;
    this.start = snapshot;
    this.snapshot = snapshot;
    this.offset = snapshot.index;
    this.commitIndex = snapshot.index;
    this.lastApplied = snapshot.index;
    // The Ready that carries the snapshot stores it before any message that depends on it leaves.
    this.stableIndex = snapshot.index;
  }

  /** Chunk `chunk` of the stored snapshot (`snapshot`); undefined once a newer one replaced it. */
  snapshotChunk(chunk: number): SnapshotChunk | undefined {
    return this.storage?.snapshotChunk(this.snapshot, chunk);
  }

  /**
   * Once the entries held count for more than the tail's bound, lets the
   * oldest durable, applied entries go (storage has them) down to three
   * quarters of it: dropping them shifts the whole tail in memory, so it
   * happens once per quarter of a tail, not on every save past the bound. The
   * last entry stays, so that appends and lastTerm never read storage.
   */
  private releaseOld(): void {
    if (this.storage === null || this.bytesHeld <= this.tailBytesMax) return;
    const releasable = Math.min(this.stableIndex, this.lastApplied, this.lastIndex() - 1) - this.offset;
    const keepBytes = this.tailBytesMax * 0.75;
    let count = 0;
    let bytes = this.bytesHeld;
    while (count < releasable && bytes > keepBytes) bytes -= entryBytes(this.entries[count++]!);
    if (count > 0) this.dropHeld(count);
  }

  /** Lets the first `count` entries held in memory go: storage has them, or compaction dropped them. */
  private dropHeld(count: number): void {
    for (const entry of this.entries.splice(0, count)) this.bytesHeld -= entryBytes(entry);
    this.offset += count;
  }

  checkInvariants(): void {
    let previousTerm = 0;
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      // Checked before asserting: building a message per entry would dominate long simulations.
      if (entry.index !== this.offset + i + 1) assert(false, `entry at position ${i} after ${this.offset} has index ${entry.index}`);
      if (entry.term < previousTerm) assert(false, `term decreases at index ${entry.index}`);
      previousTerm = entry.term;
    }
    assert(this.lastApplied <= this.commitIndex, `lastApplied ${this.lastApplied} > commitIndex ${this.commitIndex}`);
    assert(this.commitIndex <= this.lastIndex(), `commitIndex ${this.commitIndex} > lastIndex ${this.lastIndex()}`);
    assert(this.stableIndex <= this.lastIndex(), `stableIndex ${this.stableIndex} > lastIndex ${this.lastIndex()}`);
    assert(this.offset <= this.stableIndex, `entries up to ${this.offset} left memory, but only up to ${this.stableIndex} are durable`);
    assert(this.start.index <= this.offset, `the log starts after ${this.start.index}, beyond the entries held from ${this.offset + 1}`);
    assert(this.start.index <= this.snapshot.index, `the log starts after ${this.start.index}, past the snapshot at ${this.snapshot.index}`);
    assert(this.snapshot.index <= this.lastApplied, `the snapshot at ${this.snapshot.index} is past what is applied (${this.lastApplied})`);
  }
}
