import assert from "node:assert/strict";
import { RaftNode, SeededRandom, emptyHardState, raftConfigDefaults, type NodeId, type RaftConfig } from "../../src/raft/index.ts";
import { drain } from "./election-helpers.ts";

/** The followers of leaderOfFive. */
export const followersOfFive: readonly NodeId[] = [2, 3, 4, 5];

/**
 * Node 1, leader of term 1 of five voters at time 0, its no-op (entry 1)
 * acknowledged by every follower and committed: the start of the tests of
 * whom a leader's messages go to.
 */
export function leaderOfFive(config: Partial<RaftConfig> = {}): RaftNode {
  const node = new RaftNode({
    config: { ...raftConfigDefaults, id: 1, peers: [1, ...followersOfFive], ...config },
    hardState: emptyHardState,
    entries: [],
    nowMs: 0,
    random: new SeededRandom(3),
  });
  node.tick(0);
  node.campaign();
  drain(node);
  for (const from of [2, 3]) node.step({ type: "RequestVoteResponse", term: 1, from, to: 1, voteGranted: true });
  drain(node);
  assert.equal(node.status().role, "leader");
  for (const from of followersOfFive) {
    node.step({ type: "AppendEntriesResponse", term: 1, from, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  }
  drain(node);
  assert.equal(node.status().commitIndex, 1);
  return node;
}
