/**
 * RaftNode.takeHeartbeats: the heartbeats (and ReadIndex rounds) a runtime
 * may send while it still saves the previous Ready. Only messages without
 * entries, and only while this node's term and vote are on disk: a heartbeat
 * of a term not yet saved could outlive a crash that forgets the term.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RaftNode, SeededRandom, emptyHardState, raftConfigDefaults, type Message } from "../../src/raft/index.ts";
import { drain } from "./election-helpers.ts";

function leaderOfTerm1(): RaftNode {
  const node = new RaftNode({ config: { ...raftConfigDefaults, id: 1, peers: [1, 2, 3] }, hardState: emptyHardState, entries: [], nowMs: 0, random: new SeededRandom(3) });
  node.tick(0);
  node.campaign();
  assert.deepEqual(node.takeHeartbeats(), [], "a candidate's new term is not on disk yet: nothing leaves");
  const ready = node.ready();
  node.advance(ready);
  node.step({ type: "RequestVoteResponse", term: 1, from: 2, to: 1, voteGranted: true });
  drain(node);
  assert.equal(node.status().role, "leader");
  // Both followers hold the leader's no-op: they replicate now, and a heartbeat to them carries no entries.
  for (const from of [2, 3]) {
    node.step({ type: "AppendEntriesResponse", term: 1, from, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  }
  drain(node);
  return node;
}

test("while a save is in flight, heartbeats leave and entries do not", () => {
  const node = leaderOfTerm1();
  node.propose(Uint8Array.of(0x01));
  const inFlight = node.ready(); // the entry's save, not yet advanced
  node.tick(raftConfigDefaults.heartbeatMs + 1);
  const heartbeats: Message[] = node.takeHeartbeats();
  assert.ok(heartbeats.length >= 2, "one per follower");
  assert.ok(heartbeats.every((message) => message.type === "AppendEntries" && message.entries.length === 0));
  assert.ok(node.readIndex(7));
  const round = node.takeHeartbeats();
  assert.ok(round.length >= 2 && round.every((message) => message.type === "AppendEntries" && message.readRound > 0), "a read's round leaves at once too");
  node.advance(inFlight);
  const next = node.ready();
  assert.ok(!next.messages.some((message) => message.type === "AppendEntries" && message.entries.length === 0 && heartbeats.includes(message)), "taken heartbeats are not sent twice");
  node.advance(next);
  node.checkInvariants();
});
