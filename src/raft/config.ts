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
}

export const raftConfigDefaults = {
  electionTimeoutMsMin: 150,
  electionTimeoutMsMax: 300,
  heartbeatMs: 50,
  entriesPerAppendMax: 1024,
  bytesPerAppendMax: 4 * 1024 * 1024,
  inflightAppendsMax: 16,
  entriesPerReadyMax: 4096,
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
}
