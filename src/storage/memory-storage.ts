import { assert } from "../base/assert.ts";
import { emptyHardState } from "../raft/index.ts";
import type { Entry, HardState } from "../raft/index.ts";
import { findAppendProblem, findHardStateProblem, logStart } from "./raft-state-check.ts";
import type { RaftState, RaftStorage } from "./storage.ts";

/**
 * A RaftStorage held in memory, for the deterministic simulator. What it holds
 * is by definition "on disk": a simulated crash drops the RaftNode and builds
 * a new one from `loadSync()`. The synchronous methods let the simulator stay
 * on its virtual clock; the async ones wrap them to satisfy RaftStorage.
 */
export class MemoryStorage implements RaftStorage {
  private hardState: HardState = emptyHardState;
  // Our own array: callers never get or give a reference to it. Entries are immutable, so they are shared.
  private readonly entries: Entry[] = [];

  /** A copy of the stored state. */
  loadSync(): RaftState {
    return { hardState: { ...this.hardState }, entries: this.entries.slice() };
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
    const keep = first === undefined ? this.entries.length : Math.min(first.index - 1, this.entries.length);
    assert(keep >= 0, `save: first entry has invalid index ${String(first?.index)}`);
    const previous = this.entries[keep - 1] ?? logStart;
    const appendProblem = findAppendProblem(previous, entries);
    assert(appendProblem === null, `save: ${appendProblem ?? ""}`);
    const nextHardState = hardState ?? this.hardState;
    const lastIndex = keep + entries.length;
    const hardStateProblem = findHardStateProblem(nextHardState, lastIndex);
    assert(hardStateProblem === null, `save: ${hardStateProblem ?? ""}`);

    this.entries.length = keep;
    for (const entry of entries) this.entries.push(entry);
    this.hardState = { ...nextHardState };
  }

  async load(): Promise<RaftState> {
    return this.loadSync();
  }

  async save(hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    this.saveSync(hardState, entries);
  }

  async close(): Promise<void> {}
}
