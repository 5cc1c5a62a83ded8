/**
 * Trailing followers (RaftConfig.trailingFollowers, docs/architecture.md
 * §5): new entries go at once to as many voters as make a majority with the
 * leader, the first in configuration order that are idle (replicating,
 * nothing in flight, everything committed held); the other voters get them
 * with the leader's next heartbeat, all in one AppendEntries, not at its
 * every tick, or at once when a full AppendEntries waits for them. With too
 * few idle, the partners are the first that hold everything committed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { raftConfigDefaults, type AppendEntries, type Message, type NodeId, type RaftNode } from "../../src/raft/index.ts";
import { drain } from "./election-helpers.ts";
import { followersOfFive as followers, leaderOfFive } from "./five-voters.ts";

function acknowledge(node: RaftNode, from: NodeId, matchIndex: number): void {
  node.step({ type: "AppendEntriesResponse", term: 1, from, to: 1, success: true, matchIndex, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
}

/** Who got entries, and the indexes each AppendEntries carried. */
function entriesSent(messages: readonly Message[]): [NodeId, number[]][] {
  return messages
    .filter((message): message is AppendEntries => message.type === "AppendEntries" && message.entries.length > 0)
    .map((message) => [message.to, message.entries.map((entry) => entry.index)]);
}

/** Proposes `count` commands in one turn; returns entriesSent of the Readys that follow. */
function propose(node: RaftNode, count: number): [NodeId, number[]][] {
  for (let i = 0; i < count; i++) assert.ok(node.propose(new Uint8Array([i])).ok);
  return entriesSent(drain(node));
}

/** A tick at `nowMs`; returns entriesSent of the Readys that follow. */
function tick(node: RaftNode, nowMs: number): [NodeId, number[]][] {
  node.tick(nowMs);
  return entriesSent(drain(node));
}

/** The leader's first heartbeat after its election (leaderOfFive leads from time 0). */
function heartbeat(node: RaftNode): [NodeId, number[]][] {
  return tick(node, raftConfigDefaults.heartbeatMs);
}

test("new entries go at once to the two followers that make a majority with the leader, to the other two with the next heartbeat", () => {
  const node = leaderOfFive();
  assert.deepEqual(propose(node, 1), [
    [2, [2]],
    [3, [2]],
  ]);
  for (const from of [2, 3]) acknowledge(node, from, 2);
  drain(node);
  assert.equal(node.status().commitIndex, 2, "the leader and servers 2 and 3 are a majority of five");
  assert.deepEqual(propose(node, 2), [
    [2, [3, 4]],
    [3, [3, 4]],
  ]);
  assert.deepEqual(tick(node, 5), [], "a tick between heartbeats sends the trailing followers nothing");
  assert.deepEqual(heartbeat(node), [
    [4, [2, 3, 4]],
    [5, [2, 3, 4]],
  ]);
  assert.deepEqual(tick(node, raftConfigDefaults.heartbeatMs + 5), [], "nothing new since the heartbeat");
  node.checkInvariants();
});

test("a follower with entries in flight trails, and an idle one takes its place", () => {
  const node = leaderOfFive();
  propose(node, 1);
  assert.deepEqual(propose(node, 1), [
    [4, [2, 3]],
    [5, [2, 3]],
  ]);
  acknowledge(node, 2, 2);
  assert.deepEqual(entriesSent(drain(node)), [], "server 2 trails now: entry 3 waits for the heartbeat");
  assert.deepEqual(heartbeat(node), [
    [2, [3]],
    [3, [3]],
  ]);
  node.checkInvariants();
});

test("a partner that stops answering holds the commit until the heartbeat, and the next flush takes another", () => {
  const node = leaderOfFive();
  propose(node, 1);
  acknowledge(node, 2, 2);
  drain(node);
  assert.equal(node.status().commitIndex, 1, "server 3 is down: the leader and server 2 are no majority of five");
  heartbeat(node);
  acknowledge(node, 4, 2);
  drain(node);
  assert.equal(node.status().commitIndex, 2, "server 4, a trailing follower, carried the commit");
  assert.deepEqual(propose(node, 1), [
    [2, [3]],
    [4, [3]],
  ]);
  node.checkInvariants();
});

test("a full AppendEntries goes to a trailing follower at once, on a flush or on its answer", () => {
  const node = leaderOfFive({ entriesPerAppendMax: 2, inflightAppendsMax: 1 });
  assert.deepEqual(propose(node, 1), [
    [2, [2]],
    [3, [2]],
  ]);
  for (const from of [2, 3]) acknowledge(node, from, 2);
  drain(node);
  assert.deepEqual(propose(node, 1), [
    [2, [3]],
    [3, [3]],
    [4, [2, 3]],
    [5, [2, 3]],
  ]);
  assert.deepEqual(propose(node, 2), [], "every follower has an AppendEntries in flight");
  acknowledge(node, 4, 3);
  assert.deepEqual(entriesSent(drain(node)), [[4, [4, 5]]]);
  node.checkInvariants();
});

test("with too few idle followers, the first that hold everything committed are the partners, and the others trail", () => {
  const node = leaderOfFive();
  propose(node, 1);
  heartbeat(node);
  acknowledge(node, 2, 2);
  drain(node);
  // Entry 2 is in flight to servers 3, 4 and 5: server 2 alone is idle, and all four hold entry 1, the last committed.
  assert.deepEqual(propose(node, 1), [
    [2, [3]],
    [3, [3]],
  ]);
  assert.deepEqual(tick(node, raftConfigDefaults.heartbeatMs + 5), [], "servers 4 and 5 trail until the next heartbeat");
  acknowledge(node, 3, 2);
  drain(node);
  assert.deepEqual(tick(node, 2 * raftConfigDefaults.heartbeatMs), [
    [4, [3]],
    [5, [3]],
  ]);
  node.checkInvariants();
});

test("with the option off every follower gets new entries at once", () => {
  const off = leaderOfFive({ trailingFollowers: false });
  assert.deepEqual(
    propose(off, 1),
    followers.map((id) => [id, [2]]),
  );
});

test("the target of a transfer trails no more: it gets what it lacks at once, and TimeoutNow once it holds it", () => {
  const node = leaderOfFive();
  propose(node, 1);
  assert.ok(node.transferLeadership(5).ok);
  assert.deepEqual(entriesSent(drain(node)), [[5, [2]]]);
  acknowledge(node, 5, 2);
  assert.deepEqual(
    drain(node)
      .filter((message) => message.type === "TimeoutNow")
      .map((message) => message.to),
    [5],
  );
  node.checkInvariants();
});
