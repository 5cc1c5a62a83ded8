/**
 * What the replicated log drives: the one seam between "replicate and
 * apply" (the Raft runtime, src/runtime) and "what applying means" (the KV
 * store, src/kv). The runtime knows only this interface; it never sees keys,
 * values or sessions (docs/architecture.md §1).
 *
 * The type parameters are the state machine's own vocabulary, opaque to the
 * runtime: `Query` is a read it can answer, `Answer` that read's answer, and
 * `Result` what applying one command returns to the client that proposed it.
 */
import type { Entry, LogIndex } from "../raft/index.ts";

export interface StateMachine<Query, Answer, Result> {
  /**
   * The index of the last entry applied; 0 before any. Reads confirmed at
   * index i are answered only once `lastApplied >= i` (ReadIndex, Raft paper
   * §8), so this is what makes a query linearizable.
   */
  readonly lastApplied: LogIndex;

  /**
   * Applies the next committed entry (index `lastApplied + 1`) and returns
   * the result for the client that proposed it, or null for an entry that
   * carries no command (a leader's no-op).
   *
   * Must be deterministic: the new state and the result depend only on the
   * entries applied so far, never on clocks, randomness or the replica
   * (State Machine Safety, Raft paper §5.4.3, is what makes every replica
   * agree then). Called once per index, in index order, on every replica.
   */
  apply(entry: Entry): Result | null;

  /** Answers `query` from the state as of `lastApplied`, changing nothing. */
  query(query: Query): Answer;

  /**
   * A point-in-time image of the whole state as of `lastApplied`, for log
   * compaction (Raft dissertation ch. 5). Taking it is cheap; its bytes are
   * produced on demand, and entries applied after it was taken do not
   * change them.
   */
  takeSnapshot(): StateMachineSnapshot;

  /**
   * Replaces the whole state with the image `chunks` hold, as produced by
   * `takeSnapshot()` on some replica at index `lastApplied`; afterwards
   * `this.lastApplied === lastApplied`.
   */
  restore(lastApplied: LogIndex, chunks: Iterable<Uint8Array>): void;
}

/** The state at one index, as bytes written in bounded chunks. */
export interface StateMachineSnapshot {
  /** The index of the last entry the image includes. */
  readonly lastApplied: LogIndex;
  /** The image, in order; each call starts from the beginning. */
  chunks(): Iterable<Uint8Array>;
}
