import type { NodeId } from "../raft/index.ts";

/**
 * When each peer was last heard from (any valid message), on the server's
 * monotonic clock: which servers answer, for the log of a leaderless
 * cluster ("2 of 5 servers answer"), and whether the leader this server
 * follows is alive.
 */
export class PeerContacts {
  private readonly lastHeardMs = new Map<NodeId, number>();

  heard(peer: NodeId, nowMs: number): void {
    this.lastHeardMs.set(peer, nowMs);
  }

  /** Whether `peer` was heard from within the last `windowMs`. */
  heardWithin(peer: NodeId, nowMs: number, windowMs: number): boolean {
    const at = this.lastHeardMs.get(peer);
    return at !== undefined && nowMs - at <= windowMs;
  }
}
