import type { Entry, HardState, Message, ReadState, ReceivedSnapshot, SoftState } from "./types.ts";

/**
 * A batch of work the core hands to its runtime, as etcd-io/raft's Ready.
 *
 * The runtime MUST handle it in this order (the persistence rule, Figure 2
 * "Updated on stable storage before responding to RPCs"):
 *   1. durably write `snapshot` (when set), `hardState` (when set) and
 *      `entries` in one atomic write: a snapshot replaces the stored log and
 *      snapshot, and the entries follow it; else, if `entries[0].index` is at
 *      or below the last stored index, the stored log is first truncated from
 *      that index (a conflicting suffix, §5.3);
 *   2. only then send `messages`: they may grant votes or acknowledge entries
 *      that must not be forgotten by a crash (splitAtSave says which may
 *      leave before the write: a leader's AppendEntries);
 *   3. restore the state machine from `snapshot` (when set), then apply
 *      `committedEntries` in order, and serve `readStates` once applied
 *      (appliesBeforeSave says when this may come before step 1);
 *   4. call `node.advance(ready)`.
 */
export interface Ready {
  /** A leader's snapshot this follower installed in place of its log (dissertation §5.1). */
  readonly snapshot: ReceivedSnapshot | null;
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


/** Whether `ready` leaves the term and vote of the last save (`saved`) as they are. */
export function keepsTermAndVote(ready: Ready, saved: HardState): boolean {
  const hardState = ready.hardState;
  return hardState === null || (hardState.currentTerm === saved.currentTerm && hardState.votedFor === saved.votedFor);
}

/**
 * Which of `ready`'s messages may leave before its write and which must
 * wait for it. A leader's AppendEntries in a Ready that keeps the saved term
 * and vote vouch for nothing the write holds: they go first, and the
 * leader's own disk write runs alongside its followers' (dissertation
 * §10.2.1); the core counts the leader towards a majority only once
 * advance() reports its entries stable. Votes and acknowledgements wait.
 */
export function splitAtSave(ready: Ready, saved: HardState): { readonly beforeSave: readonly Message[]; readonly afterSave: readonly Message[] } {
  if (!keepsTermAndVote(ready, saved)) return { beforeSave: [], afterSave: ready.messages };
  const beforeSave: Message[] = [];
  const afterSave: Message[] = [];
  for (const message of ready.messages) (message.type === "AppendEntries" ? beforeSave : afterSave).push(message);
  return { beforeSave, afterSave };
}

/**
 * Whether `ready`'s committed entries may be applied, and their clients
 * answered, before its write completes: when the write keeps the saved term
 * and vote. A committed entry is durable on a majority that counted this
 * server only once its own copy was saved (advance() moves stableIndex), so
 * an answer vouches for nothing the write holds, save the term it reports.
 * Never with a snapshot: restore it only once it is stored.
 */
export function appliesBeforeSave(ready: Ready, saved: HardState): boolean {
  // A state machine restored from a snapshot would show state whose log is not stored yet.
  return ready.snapshot === null && keepsTermAndVote(ready, saved);
}
