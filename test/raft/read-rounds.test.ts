/**
 * Who a ReadIndex round goes to (§8): as many voters as make a majority with
 * the leader, chosen among the replicating ones that acknowledged the last
 * round; every member when too few did (the first round), so that a round
 * never waits on a server that did not answer the one before.
 * A chosen voter that does not answer delays the round by at most a
 * heartbeat interval: the periodic heartbeat goes to every member with the
 * round.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RaftNode, SeededRandom, raftConfigDefaults, type AppendEntries, type AppendEntriesResponse, type NodeId } from "../../src/raft/index.ts";
import { followersOfFive as followers, leaderOfFive } from "./five-voters.ts";
import { drain } from "./election-helpers.ts";

function acknowledge(node: RaftNode, from: NodeId, readRound: number): void {
  node.step({ type: "AppendEntriesResponse", term: 1, from, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound });
}

/** Starts a read and returns the round it waits for and who that round went to. */
function read(node: RaftNode, context: number): { round: number; to: NodeId[] } {
  assert.ok(node.readIndex(context));
  const sent = drain(node).filter((message): message is AppendEntries => message.type === "AppendEntries" && message.readRound > 0);
  const round = Math.max(...sent.map((message) => message.readRound));
  return { round, to: sent.filter((message) => message.readRound === round).map((message) => message.to) };
}

/** Whether the Readys the node has now release read `context`. */
function released(node: RaftNode, context: number): boolean {
  let found = false;
  while (node.hasReady()) {
    const ready = node.ready();
    if (ready.readStates.some((state) => state.context === context)) found = true;
    node.advance(ready);
  }
  return found;
}

test("the first round goes to every follower, later ones to the two that make a majority with the leader", () => {
  const node = leaderOfFive();
  const first = read(node, 1);
  assert.deepEqual(first.to, followers, "no round was acknowledged yet");
  for (const from of followers) acknowledge(node, from, first.round);
  assert.ok(released(node, 1));
  const second = read(node, 2);
  assert.deepEqual(second.to, [2, 3]);
  acknowledge(node, 2, second.round);
  assert.ok(!released(node, 2), "the leader and one follower are no majority of five");
  acknowledge(node, 3, second.round);
  assert.ok(released(node, 2));
  node.checkInvariants();
});

test("a chosen follower that does not answer holds the round for one heartbeat, and is not chosen again until it answers", () => {
  const node = leaderOfFive();
  const first = read(node, 1);
  for (const from of followers) acknowledge(node, from, first.round);
  assert.ok(released(node, 1));
  const second = read(node, 2);
  assert.deepEqual(second.to, [2, 3]);
  acknowledge(node, 2, second.round);
  // Server 3 is down. The periodic heartbeat carries the round to every member.
  node.tick(raftConfigDefaults.heartbeatMs + 1);
  const heartbeat = drain(node).filter((message): message is AppendEntries => message.type === "AppendEntries");
  assert.deepEqual(
    heartbeat.map((message) => [message.to, message.readRound]),
    followers.map((id) => [id, second.round]),
  );
  acknowledge(node, 4, second.round);
  assert.ok(released(node, 2), "servers 2 and 4 and the leader make the majority");
  const third = read(node, 3);
  assert.deepEqual(third.to, [2, 4], "server 3 did not acknowledge the last round");
  node.checkInvariants();
});

test("each round goes to the first voters, in configuration order, that acknowledged the one before", () => {
  const node = leaderOfFive();
  const first = read(node, 1);
  for (const from of [2, 3]) acknowledge(node, from, first.round);
  assert.ok(released(node, 1));
  const second = read(node, 2);
  assert.deepEqual(second.to, [2, 3]);
  acknowledge(node, 2, second.round);
  node.tick(raftConfigDefaults.heartbeatMs + 1);
  drain(node);
  acknowledge(node, 5, second.round);
  assert.ok(released(node, 2));
  // Only 2 and 5 acknowledged round 2: enough. Now only 2 acknowledges round 3, and the heartbeat brings 4.
  const third = read(node, 3);
  assert.deepEqual(third.to, [2, 5]);
  acknowledge(node, 2, third.round);
  node.tick(2 * raftConfigDefaults.heartbeatMs + 2);
  drain(node);
  acknowledge(node, 4, third.round);
  assert.ok(released(node, 3));
  const fourth = read(node, 4);
  assert.deepEqual(fourth.to, [2, 4]);
  node.checkInvariants();
});

test("an answer to a late copy of an earlier term's AppendEntries confirms no read round: its sender may lead a later term by then", () => {
  // Server 2 is in term 3. A copy of server 1's AppendEntries of term 1, round 9, arrives late: server 1 may lead
  // term 3 now, with reads waiting for its own round 9, which this answer must not seem to acknowledge.
  const node = new RaftNode({
    config: { ...raftConfigDefaults, id: 2, peers: [1, 2, 3] },
    hardState: { currentTerm: 3, votedFor: null, commitIndex: 0 },
    entries: [],
    nowMs: 0,
    random: new SeededRandom(5),
  });
  node.step({ type: "AppendEntries", term: 1, from: 1, to: 2, prevLogIndex: 4, prevLogTerm: 1, entries: [], leaderCommit: 0, readRound: 9 });
  const answers = drain(node).filter((message): message is AppendEntriesResponse => message.type === "AppendEntriesResponse");
  assert.deepEqual(
    answers.map(({ term, success, readRound, rejectedIndex }) => ({ term, success, readRound, rejectedIndex })),
    [{ term: 3, success: false, readRound: 0, rejectedIndex: 0 }],
    "the term, to make a stale leader step down, and nothing of the stale message",
  );
});
