import { assert } from "../base/assert.ts";
import { emptyHardState, logStart, takeWithin } from "../raft/index.ts";
import type {
  Entry,
  HardState,
  LogIndex,
  LogPosition,
  LogStorage,
  ReceivedSnapshot,
  SnapshotChunk,
  SnapshotMeta,
  Term,
} from "../raft/index.ts";
import { findAppendProblem, findHardStateProblem } from "./raft-state-check.ts";
import type { RaftState, RaftStorage, StoredSnapshot } from "./storage.ts";

/** A snapshot as MemoryStorage holds it: its own copies of the chunks, never changed once stored. */
interface HeldSnapshot {
  readonly meta: SnapshotMeta;
  readonly chunks: readonly Uint8Array[];
}

/** Our own frozen copy of a caller's position, so that it can be handed out again as it is. */
function position({ index, term }: LogPosition): LogPosition {
  return Object.freeze({ index, term });
}

/**
 * A RaftStorage held in memory, for the deterministic simulator. What it holds
 * is by definition "on disk": a simulated crash drops the RaftNode and builds
 * a new one from `loadSync()`. The synchronous methods let the simulator stay
 * on its virtual clock; the async ones wrap them to satisfy RaftStorage.
 */
export class MemoryStorage implements RaftStorage, LogStorage {
  private hardState: HardState = emptyHardState;
  // The position before log[0]: compaction and installed snapshots move it (dissertation §5.1).
  private start: LogPosition = logStart;
  // Our own array: callers never get or give a reference to it. Entries are immutable, so they are shared.
  private readonly log: Entry[] = [];
  private snapshot: HeldSnapshot | null = null;

  /** A copy of the hard state and of the log's tail (RaftState.entries), with where the log starts and the snapshot ends. */
  loadSync(tailBytesMax = Number.POSITIVE_INFINITY): RaftState {
    return {
      hardState: { ...this.hardState },
      entries: takeWithin([...this.log].reverse(), tailBytesMax).reverse(),
      logStart: this.start,
      snapshot: this.snapshot?.meta ?? logStart,
    };
  }

  /**
   * Only entries saved before, and not compacted, are asked for (LogStorage),
   * and the log start's own term: anything else is a bug in the caller.
   */
  term(index: LogIndex): Term {
    return index === this.start.index ? this.start.term : this.stored(index).term;
  }

  entries(from: LogIndex, to: LogIndex, bytesMax: number): readonly Entry[] {
    this.stored(from);
    this.stored(to);
    return takeWithin(this.log.slice(from - this.start.index - 1, to - this.start.index), bytesMax);
  }

  snapshotChunk(snapshot: SnapshotMeta, chunk: number): SnapshotChunk | undefined {
    const held = this.snapshot;
    if (held === null || held.meta.index !== snapshot.index || held.meta.term !== snapshot.term) return undefined;
    const data = held.chunks[chunk];
    return data === undefined ? undefined : { data: data.slice(), last: chunk === held.chunks.length - 1 };
  }

  /** Nothing waits for a disk here. */
  setWriteMode(): void {}

  readSnapshot(): StoredSnapshot | null {
    const held = this.snapshot;
    if (held === null) return null;
    return { meta: held.meta, chunks: () => held.chunks.map((chunk) => chunk.slice()) };
  }

  /**
   * Same contract as {@link RaftStorage.save}: with `snapshot`, replaces the
   * log and the stored snapshot by it; truncates the log from
   * `entries[0].index` when that is at or below the last stored index, then
   * appends, then stores `hardState` when not null. Throws AssertionError, and
   * changes nothing, when the result would not be a valid log (a bug in the
   * caller).
   */
  saveSync(hardState: HardState | null, entries: readonly Entry[], snapshot?: ReceivedSnapshot): void {
    const received = snapshot === undefined ? null : held(snapshot.meta, snapshot.chunks);
    const start = received === null ? this.start : received.meta;
    const lastIndex = received === null ? this.lastIndex() : start.index;
    const first = entries[0];
    const keep = first === undefined ? lastIndex : Math.min(first.index - 1, lastIndex);
    assert(keep >= start.index, `save: first entry has invalid index ${String(first?.index)}, at or below the log start ${start.index}`);
    const previous = keep === start.index ? start : this.log[keep - start.index - 1]!;
    const appendProblem = findAppendProblem(previous, entries);
    assert(appendProblem === null, `save: ${appendProblem ?? ""}`);
    const nextHardState = hardState ?? this.hardState;
    const hardStateProblem = findHardStateProblem(nextHardState, keep + entries.length);
    assert(hardStateProblem === null, `save: ${hardStateProblem ?? ""}`);

    if (received !== null) {
      this.snapshot = received;
      this.start = received.meta;
    }
    this.log.length = keep - this.start.index;
    for (const entry of entries) this.log.push(entry);
    this.hardState = { ...nextHardState };
  }

  /**
   * Same contract as {@link RaftStorage.saveSnapshot}; reads `chunks` at
   * once. Throws AssertionError, and changes nothing, when `meta` is not a
   * position of the stored log or there are no chunks.
   */
  saveSnapshotSync(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): void {
    const snapshot = held(meta, chunks);
    const lastIndex = this.lastIndex();
    assert(
      meta.index >= this.start.index && meta.index <= lastIndex && this.term(meta.index) === meta.term,
      `saveSnapshot: the snapshot ends at entry ${meta.index} of term ${meta.term}, not a position of the log (${this.start.index} to ${lastIndex})`,
    );
    this.snapshot = snapshot;
  }

  /**
   * Same contract as {@link RaftStorage.compact}. Throws AssertionError, and
   * changes nothing, when `through` is below the log start or above the
   * stored snapshot (whose entries would then be lost, dissertation §5.1).
   */
  compactSync(through: LogIndex): void {
    const snapshotIndex = this.snapshot?.meta.index ?? logStart.index;
    assert(
      through >= this.start.index && through <= snapshotIndex,
      `compact: through ${through} is outside the log start ${this.start.index} to the snapshot's index ${snapshotIndex}`,
    );
    const term = this.term(through);
    this.log.splice(0, through - this.start.index);
    this.start = position({ index: through, term });
  }

  async load(tailBytesMax = Number.POSITIVE_INFINITY): Promise<RaftState> {
    return this.loadSync(tailBytesMax);
  }

  async save(hardState: HardState | null, entries: readonly Entry[], snapshot?: ReceivedSnapshot): Promise<void> {
    this.saveSync(hardState, entries, snapshot);
  }

  async saveSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<void> {
    this.saveSnapshotSync(meta, chunks);
  }

  async compact(through: LogIndex): Promise<void> {
    this.compactSync(through);
  }

  async close(): Promise<void> {}

  private lastIndex(): LogIndex {
    return this.start.index + this.log.length;
  }

  private stored(index: LogIndex): Entry {
    const entry = index > this.start.index ? this.log[index - this.start.index - 1] : undefined;
    assert(entry !== undefined, `entry ${index} was asked for, but the log holds ${this.start.index + 1} to ${this.lastIndex()}`);
    return entry;
  }
}

/**
 * Our own copy of a snapshot, once checked: it includes at least entry 1,
 * and has a chunk to send as the last one (InstallSnapshot, dissertation §5.1).
 */
function held(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): HeldSnapshot {
  assert(meta.index >= 1 && meta.term >= 1, `snapshot: invalid position ${JSON.stringify(meta)}`);
  const copies = Array.from(chunks, (chunk) => chunk.slice());
  assert(copies.length >= 1, `snapshot ${meta.index} has no chunks`);
  return { meta: position(meta), chunks: copies };
}
