/**
 * planSends: the same AppendEntries to every peer goes out once, as a
 * multicast in place of the first of them; anything else, and any batch
 * whose order a multicast would change for some receiver, goes out as it is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppendEntries, Entry, Message, RequestVote } from "../../src/raft/index.ts";
import { planSends, type PlannedSend } from "../../src/transport/multicast-plan.ts";

const peers: ReadonlySet<number> = new Set([2, 3, 4]);
const entry: Entry = { index: 8, term: 2, type: "command", data: new Uint8Array([1]) };
const append = (to: number, overrides: Partial<AppendEntries> = {}): AppendEntries => ({
  type: "AppendEntries",
  term: 2,
  from: 1,
  to,
  prevLogIndex: 7,
  prevLogTerm: 2,
  entries: [entry],
  leaderCommit: 6,
  readRound: 3,
  ...overrides,
});
const heartbeat = (to: number): AppendEntries => append(to, { entries: [] });
const vote = (to: number): RequestVote => ({ type: "RequestVote", term: 3, from: 1, to, lastLogIndex: 7, lastLogTerm: 2 });

/** A plan as short strings: `m:2,3,4` for a multicast, `u:3` for a unicast. */
function shape(plan: readonly PlannedSend[]): string[] {
  return plan.map((send) => (send.kind === "multicast" ? `m:${send.receivers.join(",")}` : `u:${send.message.to}`));
}

test("the same AppendEntries to every peer is one multicast, in the place of the first", () => {
  const messages = [vote(5), append(2), append(3), append(4)];
  const plan = planSends(messages, peers);
  assert.deepEqual(shape(plan), ["u:5", "m:2,3,4"]);
  assert.equal(plan[1]!.message, messages[1], "the multicast carries the message itself");
});

test("heartbeats and appends to each follower in turn become two multicasts in the same order", () => {
  const messages = [2, 3, 4].flatMap((to) => [heartbeat(to), append(to)]);
  assert.deepEqual(shape(planSends(messages, peers)), ["m:2,3,4", "m:2,3,4"]);
});

test("messages that differ in anything but the receiver go out one by one", () => {
  const differing: readonly Partial<AppendEntries>[] = [
    { term: 3 },
    { prevLogIndex: 6 },
    { prevLogTerm: 1 },
    { leaderCommit: 7 },
    { readRound: 4 },
    { entries: [] },
    // Equal contents in another object (read back from storage): not assumed to be the same entry.
    { entries: [{ ...entry }] },
  ];
  for (const overrides of differing) {
    const messages = [append(2), append(3), append(4, overrides)];
    assert.deepEqual(shape(planSends(messages, peers)), ["u:2", "u:3", "u:4"], JSON.stringify(overrides));
  }
});

test("only a set that reaches every peer, and no one twice, becomes a multicast", () => {
  assert.deepEqual(shape(planSends([append(2), append(3)], peers)), ["u:2", "u:3"], "one peer left out");
  assert.deepEqual(shape(planSends([append(2), append(3), append(5)], peers)), ["u:2", "u:3", "u:5"], "a server that is no peer");
  assert.deepEqual(shape(planSends([append(2), append(2), append(3), append(4)], peers)), ["m:2,3,4", "u:2"], "a repeat goes alone, after");
  assert.deepEqual(shape(planSends([append(2), append(3)], new Set([2]))), ["u:2", "u:3"], "a single peer needs no multicast");
});

test("a multicast that would put a receiver's messages out of order is not made", () => {
  // Server 2 gets the heartbeat after the append; a multicast of the heartbeats, in server 3's place, would come first.
  const messages: Message[] = [heartbeat(3), append(2), heartbeat(2), heartbeat(4)];
  assert.deepEqual(shape(planSends(messages, peers)), ["u:3", "u:2", "u:2", "u:4"]);
});
