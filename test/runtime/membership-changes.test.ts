/**
 * Membership changes through the runtime (RaftServer.changeMembership,
 * dissertation ch. 4): admitted like proposals, settled done once the
 * configuration entry applies (also for a leader that removes itself),
 * refused with the core's reason, unknown when leadership is lost or time
 * runs out; and onMembershipChange, told at start-up and before any message
 * reaches a new member.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { raftConfigDefaults, type Membership, type MembershipChange, type Message } from "../../src/raft/index.ts";
import { raftServerLimitsDefaults, type MembershipOutcome } from "../../src/runtime/raft-server.ts";
import { becomeLeader, harness, turns, type ServerHarness } from "./server-harness.ts";

/** A harness whose onMembershipChange calls are recorded, each with how many messages had left before it. */
function recordingHarness(): { readonly h: ServerHarness; readonly told: { readonly membership: Membership; readonly sentBefore: number }[] } {
  const told: { membership: Membership; sentBefore: number }[] = [];
  const h: ServerHarness = harness({ onMembershipChange: (membership) => told.push({ membership, sentBefore: h.sent.length }) });
  return { h, told };
}

const acknowledge = (h: ServerHarness, from: number, matchIndex: number): void =>
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from, to: 1, success: true, matchIndex, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });

async function settleRounds(h: ServerHarness, rounds = 3): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    h.storage.releaseAll();
    await turns();
  }
}

function change(h: ServerHarness, membershipChange: MembershipChange): MembershipOutcome[] {
  const outcomes: MembershipOutcome[] = [];
  h.server.changeMembership(membershipChange, (outcome) => outcomes.push(outcome));
  return outcomes;
}

test("an added learner is told before any message goes to it; the change is done once its entry applies", async () => {
  const { h, told } = recordingHarness();
  await h.server.catchUp();
  assert.deepEqual(told.map((t) => t.membership.voters), [[1, 2, 3]], "told once at start-up");
  await becomeLeader(h);
  const outcomes = change(h, { kind: "add-learner", id: 4, context: '{"4":"tcp://127.0.0.1:7004"}' });
  assert.equal(told.length, 2);
  assert.deepEqual(told[1]!.membership.learners, [4]);
  const toFour = (messages: readonly Message[]): Message[] => messages.filter((message) => message.to === 4);
  assert.deepEqual(toFour(h.sent.slice(0, told[1]!.sentBefore)), [], "nothing went to server 4 before");
  await settleRounds(h);
  h.advanceTime(raftConfigDefaults.heartbeatMs + 1);
  await settleRounds(h);
  assert.ok(toFour(h.sent).length > 0, "the leader probes its learner");
  assert.deepEqual(outcomes, [], "not committed yet");
  acknowledge(h, 2, 2);
  await settleRounds(h);
  assert.deepEqual(outcomes, [{ kind: "done", index: 2 }]);
  assert.deepEqual(h.server.membership().learners, [4]);
  assert.deepEqual(h.violations, []);
});

test("a second change while the first is not committed is refused with the core's reason; a follower takes none", async () => {
  const h = harness();
  const asFollower = change(h, { kind: "remove", id: 3, context: "" });
  assert.deepEqual(asFollower, [{ kind: "not-leader" }]);
  await becomeLeader(h);
  change(h, { kind: "add-learner", id: 4, context: "" });
  const second = change(h, { kind: "remove", id: 3, context: "" });
  assert.equal(second.length, 1);
  assert.ok(second[0]!.kind === "refused" && /entry 2 is not committed yet/.test(second[0]!.problem), JSON.stringify(second));
  const nonsense = change(h, { kind: "promote", id: 9 });
  assert.ok(nonsense[0]!.kind === "refused", JSON.stringify(nonsense));
});

test("a leader that removes itself hears the change done, then steps down", async () => {
  const h = harness();
  await becomeLeader(h);
  acknowledge(h, 3, 1);
  await settleRounds(h);
  const outcomes = change(h, { kind: "remove", id: 1, context: "" });
  await settleRounds(h);
  acknowledge(h, 2, 2);
  acknowledge(h, 3, 2);
  await settleRounds(h);
  assert.deepEqual(outcomes, [{ kind: "done", index: 2 }]);
  assert.equal(h.node.status().role, "follower");
  assert.deepEqual(h.server.membership().voters, [2, 3]);
});

test("a change whose leader loses office, or that is not committed in time, has an unknown outcome", async () => {
  const lost = harness();
  await becomeLeader(lost);
  const deposed = change(lost, { kind: "add-learner", id: 4, context: "" });
  await settleRounds(lost);
  lost.server.receivePeerMessage({ type: "AppendEntries", term: 2, from: 2, to: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [], leaderCommit: 1, readRound: 0 });
  await settleRounds(lost);
  assert.deepEqual(deposed, [{ kind: "unknown", reason: "leadership-lost" }]);

  const slow = harness();
  await becomeLeader(slow);
  const late = change(slow, { kind: "add-learner", id: 4, context: "" });
  await settleRounds(slow);
  slow.advanceTime(raftServerLimitsDefaults.requestTimeoutMs + 1);
  assert.deepEqual(late, [{ kind: "unknown", reason: "timeout" }]);
});
