import type { LogIndex } from "./types.ts";

/** The number of votes or acknowledgements that make a majority of `voters` (§5.2). */
export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The highest index stored on a majority, given every voter's match index
 * (the leader's own included): the candidate for the commit index (§5.3).
 */
export function quorumMatchIndex(matchIndexes: readonly LogIndex[]): LogIndex {
  const sorted = [...matchIndexes].sort((a, b) => b - a);
  return sorted[majority(sorted.length) - 1] ?? 0;
}
