import type { NodeId, NodeStatus } from "../raft/index.ts";

/**
 * When each peer was last heard from (any valid message), on the server's
 * monotonic clock: whether the leader this server follows is alive (the
 * leader watch, the log of a leaderless cluster), and which servers answer.
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

  /** Whether this server leads, or follows a leader heard from within `silenceMs`. */
  leaderIsLive(status: NodeStatus, nowMs: number, silenceMs: number): boolean {
    if (status.leaderId === null) return false;
    return status.leaderId === status.id || this.heardWithin(status.leaderId, nowMs, silenceMs);
  }
}
