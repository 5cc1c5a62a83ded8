import type { Entry, HardState, Message, ReadState, SoftState } from "./types.ts";

/**
 * A batch of work the core hands to its runtime, as etcd-io/raft's Ready.
 *
 * The runtime MUST handle it in this order (the persistence rule, Figure 2
 * "Updated on stable storage before responding to RPCs"):
 *   1. durably write `hardState` (when set) and `entries` in one atomic write;
 *      if `entries[0].index` is at or below the last stored index, the stored
 *      log is first truncated from that index (a conflicting suffix, §5.3);
 *   2. only then send `messages`: they may grant votes or acknowledge entries
 *      that must not be forgotten by a crash;
 *   3. apply `committedEntries` in order, and serve `readStates` once applied;
 *   4. call `node.advance(ready)`.
 */
export interface Ready {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /** Set when the role or known leader changed since the previous Ready. */
  readonly softState: SoftState | null;
  /**
   * Contexts of ReadIndex requests that can no longer be confirmed because
   * this node stopped being leader; the runtime fails them.
   */
  readonly droppedReads: readonly number[];
}

