import { assert } from "../base/assert.ts";
import { emptyHardState, takeWithin } from "../raft/index.ts";
import type { Entry, HardState, LogIndex, LogStorage, Term } from "../raft/index.ts";
import { findAppendProblem, findHardStateProblem, logStart } from "./raft-state-check.ts";
import type { RaftState, RaftStorage } from "./storage.ts";

/**
 * A RaftStorage held in memory, for the deterministic simulator. What it holds
 * is by definition "on disk": a simulated crash drops the RaftNode and builds
 * a new one from `loadSync()`. The synchronous methods let the simulator stay
 * on its virtual clock; the async ones wrap them to satisfy RaftStorage.
 */
export class MemoryStorage implements RaftStorage, LogStorage {
  private hardState: HardState = emptyHardState;
  // Our own array: callers never get or give a reference to it. Entries are immutable, so they are shared.
  private readonly log: Entry[] = [];

  /** A copy of the hard state and of the log's tail (RaftState.entries). */
  loadSync(tailBytesMax = Number.POSITIVE_INFINITY): RaftState {
    return { hardState: { ...this.hardState }, entries: takeWithin([...this.log].reverse(), tailBytesMax).reverse() };
  }

  /** Only entries saved before are asked for (LogStorage): a missing one is a bug in the caller. */
  term(index: LogIndex): Term {
    return this.stored(index).term;
  }

  entries(from: LogIndex, to: LogIndex, bytesMax: number): readonly Entry[] {
    this.stored(from);
    this.stored(to);
    return takeWithin(this.log.slice(from - 1, to), bytesMax);
  }

  /**
   * Same contract as {@link RaftStorage.save}: truncates the log from
   * `entries[0].index` when that is at or below the last stored index, then
   * appends, then stores `hardState` when not null. Throws AssertionError, and
   * changes nothing, when the result would not be a valid log (a bug in the
   * caller).
   */
  saveSync(hardState: HardState | null, entries: readonly Entry[]): void {
    const first = entries[0];
    const keep = first === undefined ? this.log.length : Math.min(first.index - 1, this.log.length);
    assert(keep >= 0, `save: first entry has invalid index ${String(first?.index)}`);
    const previous = this.log[keep - 1] ?? logStart;
    const appendProblem = findAppendProblem(previous, entries);
    assert(appendProblem === null, `save: ${appendProblem ?? ""}`);
    const nextHardState = hardState ?? this.hardState;
    const lastIndex = keep + entries.length;
    const hardStateProblem = findHardStateProblem(nextHardState, lastIndex);
    assert(hardStateProblem === null, `save: ${hardStateProblem ?? ""}`);

    this.log.length = keep;
    for (const entry of entries) this.log.push(entry);
    this.hardState = { ...nextHardState };
  }

  async load(tailBytesMax = Number.POSITIVE_INFINITY): Promise<RaftState> {
    return this.loadSync(tailBytesMax);
  }

  async save(hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    this.saveSync(hardState, entries);
  }

  async close(): Promise<void> {}

  private stored(index: LogIndex): Entry {
    const entry = this.log[index - 1];
    assert(entry !== undefined, `entry ${index} was asked for, but the log holds 1 to ${this.log.length}`);
    return entry;
  }
}
