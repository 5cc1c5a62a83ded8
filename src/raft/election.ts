import type { RaftLog } from "./log.ts";
import { majority } from "./quorum.ts";
import type { NodeId, PreVote, RequestVote, Term } from "./types.ts";
import { termMax } from "./types.ts";

/**
 * The answers a candidate (§5.2) or a pre-candidate (dissertation §9.6) has
 * heard in its round, its own grant included. A later answer from the same
 * server replaces the earlier one.
 */
export class VoteTally {
  private readonly votes: Map<NodeId, boolean>;

  constructor(self: NodeId) {
    this.votes = new Map([[self, true]]);
  }

  record(peer: NodeId, granted: boolean): void {
    this.votes.set(peer, granted);
  }

  granted(): number {
    let granted = 0;
    for (const vote of this.votes.values()) if (vote) granted++;
    return granted;
  }

  /** §5.2: the round is won once a majority of `voters` granted; grants from anyone else do not count. */
  won(voters: readonly NodeId[]): boolean {
    let granted = 0;
    for (const voter of voters) if (this.votes.get(voter) === true) granted++;
    return granted >= majority(voters.length);
  }

  grantedBy(peer: NodeId): boolean {
    return this.votes.get(peer) === true;
  }
}

/** §5.2 and §5.4.1: one vote per term, only for a candidate whose log is at least as up-to-date. */
export function grantsVote(request: RequestVote, votedFor: NodeId | null, log: RaftLog): boolean {
  const canVote = votedFor === null || votedFor === request.from;
  return canVote && log.isUpToDate(request.lastLogIndex, request.lastLogTerm);
}

/**
 * Dissertation §9.6: granted for a later term, to a log at least as
 * up-to-date (§5.4.1), when no current leader was heard from lately.
 */
export function grantsPreVote(request: PreVote, currentTerm: Term, log: RaftLog, leaderIsCurrent: boolean): boolean {
  return request.term > currentTerm && log.isUpToDate(request.lastLogIndex, request.lastLogTerm) && !leaderIsCurrent;
}

/**
 * Dissertation §4.2.3 (leader stickiness): the leader of the current term
 * was heard from within electionTimeoutMsMin.
 */
export function heardFromLeaderLately(leaderId: NodeId | null, leaderContactMs: number, nowMs: number, electionTimeoutMsMin: number): boolean {
  return leaderId !== null && nowMs - leaderContactMs < electionTimeoutMsMin;
}

/**
 * Dissertation §4.2.3: with CheckQuorum, a server that hears from its leader
 * disregards a RequestVote for a later term, term included, unless the
 * request is forced (the controller's campaign or a transfer's, §3.10).
 */
export function disregardsRequestVote(request: RequestVote, currentTerm: Term, checkQuorum: boolean, leaderIsCurrent: boolean): boolean {
  return request.term > currentTerm && request.forced !== true && checkQuorum && leaderIsCurrent;
}

/** Its peers would refuse the next term: only a forged message brings a server to the bound (docs/architecture.md §6). */
export function atTermBound(term: Term): boolean {
  return term >= termMax;
}

export function termBoundError(term: Term): string {
  return `cannot campaign: the term ${term} is at the bound ${termMax}, which only a forged message reaches`;
}
