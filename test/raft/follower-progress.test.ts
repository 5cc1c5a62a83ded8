/**
 * What the core tells the server about replication, so that the server can
 * log a follower's return and catch-up (issue 13) while the core stays
 * free of clocks and I/O: a leader's view of each follower (Figure 2's
 * matchIndex, and the tick time it last heard from it), and a follower's
 * view of the leader's commit index.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppendEntries } from "../../src/raft/index.ts";
import { drain, guardedNode, heartbeatFrom2, leaderOfTerm1 } from "./election-helpers.ts";

/** Server 2's AppendEntries to server 1 as leader of term 1. */
const appendFrom2 = (fields: Partial<AppendEntries>): AppendEntries => ({ ...(heartbeatFrom2(1) as AppendEntries), ...fields });

test("a leader reports each follower's match index and when it last heard from it, in tick time", () => {
  const { node } = guardedNode();
  assert.deepEqual(node.followers(), [], "a follower has no followers");
  leaderOfTerm1(node, 5);
  assert.deepEqual(node.followers(), [
    { id: 2, matchIndex: 1, lastHeardMs: 5 },
    { id: 3, matchIndex: 0, lastHeardMs: null },
  ]);
  node.tick(40);
  node.step({ type: "AppendEntriesResponse", term: 1, from: 3, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  drain(node);
  assert.deepEqual(node.followers()[1], { id: 3, matchIndex: 1, lastHeardMs: 40 });
  node.stepDown();
  assert.deepEqual(node.followers(), [], "no longer leading");
});

test("a follower knows the commit index its leader announced, forgotten with the term", () => {
  const { node } = guardedNode();
  node.tick(1);
  assert.equal(node.leaderCommitIndex(), 0, "no leader known");
  node.step(heartbeatFrom2(1));
  drain(node);
  assert.equal(node.leaderCommitIndex(), 0);
  // Server 2 sends entry 1 and says it is committed at 1 … then a heartbeat announcing 3 before entries 2-3 arrive.
  node.step(appendFrom2({ entries: [{ index: 1, term: 1, type: "noop", data: new Uint8Array(0) }], leaderCommit: 1 }));
  node.step(appendFrom2({ prevLogIndex: 1, prevLogTerm: 1, leaderCommit: 3 }));
  drain(node);
  assert.equal(node.status().commitIndex, 1, "it commits only what it holds");
  assert.equal(node.leaderCommitIndex(), 3, "but knows the leader is at 3: it has not caught up yet");
  node.step({ type: "RequestVote", term: 2, from: 3, to: 1, lastLogIndex: 1, lastLogTerm: 1, forced: true });
  drain(node);
  assert.equal(node.leaderCommitIndex(), 0, "a new term: no leader known");
});
