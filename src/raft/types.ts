/**
 * The vocabulary of the Raft core, named as in Figure 2 of the Raft paper
 * (Ongaro & Ousterhout, extended version).
 */

/** A server's id: a positive integer, as in the cluster config. */
export type NodeId = number;
/** A term number (§5.1). Terms start at 0 and only grow. */
export type Term = number;

/**
 * No term is above this, so that `term + 1` always stays an exact integer.
 * Terms grow by one per election: at one election per millisecond 2^48
 * lasts nearly 9,000 years. Only a forged message can bring a server near it.
 */
export const termMax: Term = 2 ** 48;
/** A position in the replicated log. The first entry has index 1; 0 means "none". */
export type LogIndex = number;

/**
 * What an entry carries. A `noop` is appended by every new leader so that it
 * can commit entries of earlier terms (§5.4.2, §8); `command` is opaque to the
 * core: the state machine above decides what its bytes mean. A `config`
 * holds a configuration (dissertation ch. 4, membership.ts), read by the
 * core; the state machine skips it as it skips a noop.
 */
export type EntryType = "noop" | "command" | "config";

/** One log entry. Immutable once created: logs share entry objects. */
export interface Entry {
  readonly index: LogIndex;
  readonly term: Term;
  readonly type: EntryType;
  /** The command's bytes; empty for a noop. */
  readonly data: Uint8Array;
}

/**
 * The state a server must keep on stable storage before it answers any RPC
 * (Figure 2, "Persistent state on all servers"). `commitIndex` is persisted
 * too (as etcd does) so that a restarted server can re-apply its committed
 * entries at once instead of waiting to hear from a leader.
 */
export interface HardState {
  readonly currentTerm: Term;
  readonly votedFor: NodeId | null;
  readonly commitIndex: LogIndex;
}

export const emptyHardState: HardState = Object.freeze({ currentTerm: 0, votedFor: null, commitIndex: 0 });

/** The index and term of one log position; index 0 / term 0 stands for "before the first entry". */
export interface LogPosition {
  readonly index: LogIndex;
  readonly term: Term;
}

export const logStart: LogPosition = Object.freeze({ index: 0, term: 0 });

/**
 * Where a snapshot of the state machine ends: the index and term of the last
 * entry it includes (dissertation §5.1, lastIncludedIndex/lastIncludedTerm).
 * `logStart` stands for "no snapshot".
 */
export type SnapshotMeta = LogPosition;

export const sameMeta = (a: SnapshotMeta, b: SnapshotMeta): boolean => a.index === b.index && a.term === b.term;

/**
 * A state machine image received from a leader (dissertation §5.1), whole:
 * the runtime stores it in place of its log and restores the state machine
 * from it (Ready.snapshot).
 */
export interface ReceivedSnapshot {
  readonly meta: SnapshotMeta;
  /** The image as the leader's storage held it, chunk by chunk (StateMachine.takeSnapshot's bytes). */
  readonly chunks: readonly Uint8Array[];
}

export type Role = "follower" | "candidate" | "leader";

/** Every message carries the sender's term; a higher term makes any server a follower (§5.1). */
interface MessageBase {
  readonly term: Term;
  readonly from: NodeId;
  readonly to: NodeId;
}

/**
 * RequestVote RPC (Figure 2, §5.2, §5.4.1). `forced` marks a campaign that
 * must not be held back by leader stickiness (dissertation §4.2.3): one the
 * controller asked for, or one a leader handed over with TimeoutNow
 * (dissertation §3.10). Absent on an ordinary campaign.
 */
export interface RequestVote extends MessageBase {
  readonly type: "RequestVote";
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  readonly forced?: true;
}

export interface RequestVoteResponse extends MessageBase {
  readonly type: "RequestVoteResponse";
  readonly voteGranted: boolean;
}

/**
 * A pre-vote request (dissertation §9.6): "would you vote for me in `term`?",
 * where `term` is the sender's current term + 1. Neither side changes its
 * term or vote for it. A separate type, not a flag on RequestVote, so that a
 * forced pre-vote cannot be written down.
 */
export interface PreVote extends MessageBase {
  readonly type: "PreVote";
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
}

/**
 * The answer to a PreVote. When granted, `term` is the term asked about; when
 * refused, the refuser's current term, so that a sender behind it catches up
 * (§5.1).
 */
export interface PreVoteResponse extends MessageBase {
  readonly type: "PreVoteResponse";
  readonly voteGranted: boolean;
}

/**
 * The leader's go-ahead in a leadership transfer (dissertation §3.10): the
 * receiver, whose log matches the leader's, campaigns at once.
 */
export interface TimeoutNow extends MessageBase {
  readonly type: "TimeoutNow";
}

/**
 * AppendEntries RPC (Figure 2, §5.3). Also the heartbeat when `entries` is
 * empty. `readRound` is the leader's heartbeat round, echoed back so that a
 * ReadIndex request can tell which acknowledgements came after it (§8).
 */
export interface AppendEntries extends MessageBase {
  readonly type: "AppendEntries";
  readonly prevLogIndex: LogIndex;
  readonly prevLogTerm: Term;
  readonly entries: readonly Entry[];
  readonly leaderCommit: LogIndex;
  readonly readRound: number;
}

/**
 * The reply to AppendEntries. On success `matchIndex` is the last index known
 * to match the leader (prevLogIndex + entries.length). On failure
 * `rejectedIndex` is the prevLogIndex that did not match and
 * `conflictTerm`/`conflictIndex` are the hint for fast log repair (§5.3, the
 * paragraph on "the follower can include the term of the conflicting entry"):
 * `conflictTerm` is the follower's term at rejectedIndex (0 when its log is
 * too short) and `conflictIndex` the first index the follower holds in that
 * term (or its last index + 1 when its log is too short).
 */
export interface AppendEntriesResponse extends MessageBase {
  readonly type: "AppendEntriesResponse";
  readonly success: boolean;
  readonly matchIndex: LogIndex;
  readonly rejectedIndex: LogIndex;
  readonly conflictTerm: Term;
  readonly conflictIndex: LogIndex;
  readonly readRound: number;
}

/**
 * InstallSnapshot RPC (dissertation §5.1, Figure 5.3), one chunk at a time:
 * the leader sends chunk `chunk` (0-based) of its snapshot `snapshot`, `last`
 * on the final one. Chunks are bounded (a snapshot is stored as chunks of at
 * most about 1 MiB), so no message nears the transport's size limit, and the
 * follower says which chunk it wants next, so an interrupted transfer
 * resumes where it stopped instead of starting over.
 */
export interface InstallSnapshot extends MessageBase {
  readonly type: "InstallSnapshot";
  readonly snapshot: SnapshotMeta;
  readonly chunk: number;
  readonly last: boolean;
  readonly data: Uint8Array;
}

/**
 * The answer to an InstallSnapshot chunk. `done`: the follower holds the
 * snapshot's entries (it installed the snapshot, or already had them); else
 * `nextChunk` is the chunk of `snapshot` it wants next.
 */
export interface InstallSnapshotResponse extends MessageBase {
  readonly type: "InstallSnapshotResponse";
  readonly snapshot: SnapshotMeta;
  readonly nextChunk: number;
  readonly done: boolean;
}

export type Message =
  | RequestVote
  | RequestVoteResponse
  | PreVote
  | PreVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow;
export type MessageType = Message["type"];

/**
 * The outcome of RaftNode.propose(). `transferring`: this server still leads
 * but is handing leadership to `leaderId` (dissertation §3.10) and takes no
 * new entries meanwhile.
 */
export type ProposeResult =
  | { readonly ok: true; readonly index: LogIndex; readonly term: Term }
  | { readonly ok: false; readonly reason: "not-leader" | "transferring"; readonly leaderId: NodeId | null };

/** The outcome of RaftNode.transferLeadership(). */
export type TransferResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * A linearizable read that the leader has confirmed (§8, ReadIndex): once the
 * state machine has applied `index`, the read identified by `context` may be
 * served from local state.
 */
export interface ReadState {
  readonly context: number;
  readonly index: LogIndex;
}

/**
 * A heartbeat: an AppendEntries without entries (ReadIndex rounds are
 * heartbeats too). It asks a follower to store nothing, so it depends on no
 * entry of the leader's being on disk.
 */
export function isHeartbeat(message: Message): boolean {
  return message.type === "AppendEntries" && message.entries.length === 0;
}

/** The volatile state a runtime shows to operators (the status reply, docs/protocol.md §5). */
export interface SoftState {
  readonly role: Role;
  readonly leaderId: NodeId | null;
}

/** A snapshot of a node's state for status replies and tests. */
export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: Term;
  readonly leaderId: NodeId | null;
  readonly votedFor: NodeId | null;
  readonly commitIndex: LogIndex;
  readonly lastApplied: LogIndex;
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  /** The entry before the first the log holds: entries up to it are compacted into the snapshot (dissertation ch. 5). */
  readonly logStartIndex: LogIndex;
  /** The last entry the stored snapshot includes; 0 when there is none. */
  readonly snapshotIndex: LogIndex;
  /** The server this leader is handing leadership to (dissertation §3.10), or null. */
  readonly transferTarget: NodeId | null;
}

/**
 * A leader's view of one follower, for the server's log of a follower that
 * went silent, came back and caught up (the core itself logs nothing of it).
 */
export interface FollowerProgress {
  readonly id: NodeId;
  /** Figure 2's matchIndex: the highest entry known to be on the follower, learnt in this leader's term. */
  readonly matchIndex: LogIndex;
  /** The tick time (tick's `nowMs`) of the last message from it in this leader's term; null before the first. */
  readonly lastHeardMs: number | null;
}
