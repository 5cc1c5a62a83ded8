import type { Progress } from "./progress.ts";
import type { LogIndex, NodeId } from "./types.ts";

/**
 * A leadership transfer under way (dissertation §3.10): the leader takes no
 * new proposals, brings `target` up to date, then sends it TimeoutNow. It
 * gives up at `deadlineMs`, an election timeout after the start, so a target
 * that cannot win does not keep the cluster from taking writes.
 */
export class LeaderTransfer {
  constructor(
    readonly target: NodeId,
    readonly deadlineMs: number,
  ) {}

  /** Why leader `self` cannot hand over to `target` now, or null. */
  static refusal(self: NodeId, target: NodeId, progress: ReadonlyMap<NodeId, Progress>, current: LeaderTransfer | null): string | null {
    if (target === self) return `server ${target} is this server, which already leads`;
    if (!progress.has(target)) return `server ${target} is not a server of this cluster`;
    if (current !== null) return `a transfer to server ${current.target} is already under way`;
    return null;
  }

  expired(nowMs: number): boolean {
    return nowMs >= this.deadlineMs;
  }

  /** Once the target holds the whole log it can win the election TimeoutNow starts (§5.4.1). */
  readyForTimeoutNow(peer: NodeId, matchIndex: LogIndex, lastIndex: LogIndex): boolean {
    return peer === this.target && matchIndex === lastIndex;
  }
}
