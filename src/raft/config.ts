import type { NodeId } from "./types.ts";

/** The limits and timings of one Raft node. Units come last in every name. */
export interface RaftConfig {
  readonly id: NodeId;
  /** Every voting member, this node included. */
  readonly peers: readonly NodeId[];
  /** An election timeout is drawn uniformly from [min, max] at each reset (§5.2, §9.3). */
  readonly electionTimeoutMsMin: number;
  readonly electionTimeoutMsMax: number;
  /** A leader sends AppendEntries to every follower at least this often (§5.2). */
  readonly heartbeatMs: number;
  /** Bounds on one AppendEntries; at least one entry is always sent when one is due. */
  readonly entriesPerAppendMax: number;
  readonly bytesPerAppendMax: number;
  /** AppendEntries with entries in flight to one follower before the leader waits for acks. */
  readonly inflightAppendsMax: number;
  /** Committed entries handed to the runtime in one Ready. */
  readonly entriesPerReadyMax: number;
  /**
   * The recent durable, applied entries kept in memory, in entryBytes (data
   * plus 24 bytes each); older ones are read back from the LogStorage the
   * node is given (docs/architecture.md §2). Entries not yet durable or
   * applied always stay, whatever this says. The default keeps about 12,000
   * entries of a 100-byte put (some 6 s of writes at 2,000 a second), so a
   * follower that keeps up is always served from memory, for a few MB of
   * heap.
   */
  readonly logTailBytesMax: number;
  /**
   * The largest snapshot a follower gathers from a leader (dissertation
   * §5.1): a transfer past it is dropped, so that a forged one cannot fill
   * memory. The default holds a million keys of 1 KiB values with room over.
   */
  readonly snapshotBytesMax: number;
  /**
   * Dissertation §9.6: a server whose timer runs out first asks for
   * pre-votes for the next term, and campaigns only when a majority would
   * vote for it; a pre-vote is refused by a server that heard from a current
   * leader within electionTimeoutMsMin. A server cut off for a while then
   * rejoins without raising anyone's term.
   */
  readonly preVote: boolean;
  /**
   * Dissertation §6.2 and §4.2.3: a leader that has not heard from a majority
   * within electionTimeoutMsMax steps down; and a server that heard from a
   * current leader within electionTimeoutMsMin ignores RequestVote (its term
   * too) unless the request is forced (RaftNode.campaign, TimeoutNow).
   */
  readonly checkQuorum: boolean;
  /**
   * A new node's election timer starts at its first tick(), not when it was
   * built: however long the runtime replays its log before ticking, the
   * server gets a full election timeout to hear from the leader.
   */
  readonly electionTimerFromFirstTick: boolean;
  /**
   * New entries go at once only to as many voters as make a majority with
   * the leader; the other voters that keep up (trailing
   * followers) get them with the leader's next heartbeat, in one
   * AppendEntries, or at once when a full AppendEntries waits for them
   * (docs/architecture.md §5). On a machine whose cores the servers share,
   * their work then does not compete with the commit's.
   */
  readonly trailingFollowers: boolean;
}

export const raftConfigDefaults = {
  electionTimeoutMsMin: 150,
  electionTimeoutMsMax: 300,
  heartbeatMs: 50,
  entriesPerAppendMax: 1024,
  bytesPerAppendMax: 4 * 1024 * 1024,
  inflightAppendsMax: 16,
  entriesPerReadyMax: 4096,
  logTailBytesMax: 2 * 1024 * 1024,
  snapshotBytesMax: 2 * 1024 * 1024 * 1024,
  preVote: true,
  checkQuorum: true,
  electionTimerFromFirstTick: true,
  trailingFollowers: true,
} as const;

/** Throws an Error naming the first field that is out of range. */
export function validateRaftConfig(config: RaftConfig): void {
  const positiveInteger = (name: string, value: number): void => {
    if (!Number.isInteger(value) || value <= 0) throw new Error(`raft config: ${name} must be a positive integer, got ${value}`);
  };
  positiveInteger("id", config.id);
  for (const peer of config.peers) positiveInteger("peers[]", peer);
  if (new Set(config.peers).size !== config.peers.length) throw new Error("raft config: peers has a duplicate id");
  if (!config.peers.includes(config.id)) throw new Error(`raft config: peers must include this node's id ${config.id}`);
  positiveInteger("heartbeatMs", config.heartbeatMs);
  positiveInteger("electionTimeoutMsMin", config.electionTimeoutMsMin);
  positiveInteger("electionTimeoutMsMax", config.electionTimeoutMsMax);
  if (config.electionTimeoutMsMin <= config.heartbeatMs) {
    throw new Error("raft config: electionTimeoutMsMin must be above heartbeatMs");
  }
  if (config.electionTimeoutMsMax < config.electionTimeoutMsMin) {
    throw new Error("raft config: electionTimeoutMsMax must be at least electionTimeoutMsMin");
  }
  positiveInteger("entriesPerAppendMax", config.entriesPerAppendMax);
  positiveInteger("bytesPerAppendMax", config.bytesPerAppendMax);
  positiveInteger("inflightAppendsMax", config.inflightAppendsMax);
  positiveInteger("entriesPerReadyMax", config.entriesPerReadyMax);
  positiveInteger("logTailBytesMax", config.logTailBytesMax);
  positiveInteger("snapshotBytesMax", config.snapshotBytesMax);
  for (const name of ["preVote", "checkQuorum", "electionTimerFromFirstTick", "trailingFollowers"] as const) {
    if (typeof config[name] !== "boolean") throw new Error(`raft config: ${name} must be a boolean, got ${String(config[name])}`);
  }
}
