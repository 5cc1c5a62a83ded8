import type { NodeId } from "./types.ts";
import { majority } from "./quorum.ts";

/**
 * CheckQuorum (dissertation §6.2): the followers a leader has heard from in
 * the current period. Any message of the leader's term counts. A leader that
 * ends a period without a majority (itself included) steps down, so that a
 * leader cut off from the cluster does not go on believing it leads.
 */
export class QuorumActivity {
  private readonly heard = new Set<NodeId>();

  constructor(private periodEndMs: number) {}

  note(peer: NodeId): void {
    this.heard.add(peer);
  }

  isDue(nowMs: number): boolean {
    return nowMs >= this.periodEndMs;
  }

  /** Ends the period: whether a majority of `voters` (`self` counted when one) was heard from; the next period ends `periodMs` from now. */
  closePeriod(nowMs: number, periodMs: number, voters: readonly NodeId[], self: NodeId): boolean {
    let heard = 0;
    for (const voter of voters) if (voter === self || this.heard.has(voter)) heard++;
    const active = heard >= majority(voters.length);
    this.heard.clear();
    this.periodEndMs = nowMs + periodMs;
    return active;
  }
}
