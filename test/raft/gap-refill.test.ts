/**
 * A follower whose log ends before a rejected AppendEntries (a gap: an
 * earlier one was lost, or overtaken on the way) gets the entries from the
 * gap again at once, and the pipeline goes on replicating: the leader does
 * not fall back to probing, one AppendEntries a round trip, and the
 * rejections of what was in flight behind the gap send nothing more.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type AppendEntries, type Message, type NodeId, type RaftNode } from "../../src/raft/index.ts";
import { drain } from "./election-helpers.ts";
import { leaderOfFive } from "./five-voters.ts";

/** The AppendEntries with entries that went to `to`, as [prevLogIndex, entry indexes]. */
function appendsTo(messages: readonly Message[], to: NodeId): [number, number[]][] {
  return messages
    .filter((message): message is AppendEntries => message.type === "AppendEntries" && message.to === to && message.entries.length > 0)
    .map((message) => [message.prevLogIndex, message.entries.map((entry) => entry.index)]);
}

function proposeOne(node: RaftNode): Message[] {
  assert.ok(node.propose(new Uint8Array([1])).ok);
  return drain(node);
}

/** Server 2's rejection of the AppendEntries at `prevLogIndex`: its log ends at `lastIndex`. */
function gapRejection(node: RaftNode, prevLogIndex: number, lastIndex: number): Message[] {
  node.step({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: false, matchIndex: 0, rejectedIndex: prevLogIndex, conflictTerm: 0, conflictIndex: lastIndex + 1, readRound: 0 });
  return drain(node);
}

test("a gap is refilled at once, once, and the pipeline goes on", () => {
  const node = leaderOfFive({ trailingFollowers: false });
  for (let i = 0; i < 3; i++) proposeOne(node);
  // Entries 2, 3 and 4 went to server 2 one AppendEntries each; the one with entry 2 was lost.
  assert.deepEqual(appendsTo(gapRejection(node, 2, 1), 2), [[1, [2, 3, 4]]], "the entries from the gap go again");
  assert.deepEqual(appendsTo(gapRejection(node, 3, 1), 2), [], "the next rejection behind the same gap sends nothing");
  assert.deepEqual(appendsTo(proposeOne(node), 2), [[4, [5]]], "still replicating: a new entry follows the refill at once");
  node.checkInvariants();
});

test("a refill that does not arrive either leaves the pipeline stalled until the heartbeats probe", () => {
  const node = leaderOfFive({ trailingFollowers: false });
  for (let i = 0; i < 2; i++) proposeOne(node);
  gapRejection(node, 2, 1);
  assert.deepEqual(appendsTo(gapRejection(node, 2, 1), 2), [], "a late copy of the same rejection");
  node.tick(100);
  drain(node);
  node.tick(150);
  assert.deepEqual(appendsTo(drain(node), 2), [[1, [2, 3]]], "two heartbeats without progress: a probe from the last match");
  node.checkInvariants();
});
