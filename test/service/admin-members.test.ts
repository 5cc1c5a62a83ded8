/**
 * The admin actions `add` and `remove` and the `members` of a status reply
 * (docs/protocol.md §4, §5), through KvService on a real core: a change is
 * answered once committed, with the configuration it made; a second one
 * while the first is pending is refused with the core's reason; a follower
 * sends it to the leader; an endpoint that is no endpoint, or another
 * member's, is refused; and a redirect names a leader that only the
 * configuration knows, at the endpoint the configuration carries.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { encodeMemberEndpoints } from "../../src/config/member-endpoints.ts";
import { encodeMembership } from "../../src/raft/index.ts";
import { becomeLeader, harness, turns, type ServerHarness } from "../runtime/server-harness.ts";

const byRid = (h: ServerHarness, rid: string): Record<string, unknown> | undefined => h.replies.find((reply) => reply.rid === rid);

async function settleRounds(h: ServerHarness, rounds = 3): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    h.storage.releaseAll();
    await turns();
  }
}

/** Server 2 acknowledges everything the leader sent it. */
async function acknowledgeAll(h: ServerHarness): Promise<void> {
  const last = h.node.status().lastLogIndex;
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: last, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  await settleRounds(h);
}

test("add is answered once committed, with the configuration it made; status shows it; remove takes a member out", async () => {
  const h = harness();
  await becomeLeader(h);
  h.service.receive(1, [pack({ op: "admin", action: "add", target: 6, client: "tcp://127.0.0.1:7006", rid: "add" })]);
  await settleRounds(h);
  assert.equal(byRid(h, "add"), undefined, "answered only once committed");
  await acknowledgeAll(h);
  const added = byRid(h, "add");
  assert.equal(added?.ok, true, JSON.stringify(added));
  assert.equal(added?.action, "add");
  assert.equal(added?.index, 2);
  const learner = { id: 6, client: "tcp://127.0.0.1:7006", voter: false };
  assert.deepEqual(added?.members, [
    { id: 1, client: "tcp://127.0.0.1:5000", voter: true },
    { id: 2, client: "tcp://127.0.0.1:5001", voter: true },
    { id: 3, client: "tcp://127.0.0.1:5002", voter: true },
    learner,
  ]);
  h.service.receive(2, [pack({ op: "status", rid: "status" })]);
  assert.deepEqual((byRid(h, "status")?.members as unknown[]).at(-1), learner);

  h.service.receive(3, [pack({ op: "admin", action: "remove", target: 3, rid: "remove" })]);
  await settleRounds(h);
  await acknowledgeAll(h);
  const removed = byRid(h, "remove");
  assert.equal(removed?.ok, true, JSON.stringify(removed));
  assert.deepEqual((removed?.members as { id: number }[]).map((member) => member.id), [1, 2, 6]);
  assert.deepEqual(h.violations, []);
});

test("a change while another is pending is refused with the core's reason, and a nonsense one too", async () => {
  const h = harness();
  await becomeLeader(h);
  h.service.receive(1, [pack({ op: "admin", action: "add", target: 6, client: "tcp://127.0.0.1:7006", rid: "first" })]);
  h.service.receive(2, [pack({ op: "admin", action: "remove", target: 3, rid: "second" })]);
  const second = byRid(h, "second");
  assert.equal(second?.error, "BAD_REQUEST");
  assert.match(String(second?.message), /^server 1 cannot remove server 3: the configuration change at entry 2 is not committed yet$/);
  await settleRounds(h);
  await acknowledgeAll(h);
  assert.equal(byRid(h, "first")?.ok, true);
  h.service.receive(3, [pack({ op: "admin", action: "remove", target: 9, rid: "stranger" })]);
  assert.match(String(byRid(h, "stranger")?.message), /cannot remove server 9: server 9 is not a member/);
});

test("an endpoint that is no endpoint, or another member's, is refused; a follower sends changes to the leader", async () => {
  const h = harness();
  h.service.receive(1, [pack({ op: "admin", action: "add", target: 6, client: "tcp://127.0.0.1:7006", rid: "follower" })]);
  assert.equal(byRid(h, "follower")?.error, "NO_LEADER", "no leader yet: nothing to send it to");
  await becomeLeader(h);
  h.service.receive(2, [pack({ op: "admin", action: "add", target: 6, client: "http://example.com", rid: "bad" })]);
  assert.match(String(byRid(h, "bad")?.message), /^client must be a ZeroMQ endpoint such as "tcp:\/\/127\.0\.0\.1:5000"/);
  h.service.receive(3, [pack({ op: "admin", action: "add", target: 6, rid: "none" })]);
  assert.match(String(byRid(h, "none")?.message), /^an add needs client/);
  h.service.receive(4, [pack({ op: "admin", action: "add", target: 6, client: "tcp://127.0.0.1:5001", rid: "taken" })]);
  assert.match(String(byRid(h, "taken")?.message), /that is server 2's client endpoint/);
});

test("a redirect names a leader that only the configuration knows, at the endpoint the configuration carries", async () => {
  const h = harness();
  const endpoints = new Map([[1, "tcp://127.0.0.1:5000"], [2, "tcp://127.0.0.1:5001"], [3, "tcp://127.0.0.1:5002"], [7, "tcp://10.0.0.7:5000"]]);
  const config = encodeMembership({ voters: [1, 2, 3, 7], learners: [], context: encodeMemberEndpoints(endpoints) });
  h.server.receivePeerMessage({
    type: "AppendEntries",
    term: 4,
    from: 7,
    to: 1,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [{ index: 1, term: 4, type: "config", data: config }],
    leaderCommit: 1,
    readRound: 0,
  });
  await settleRounds(h);
  h.service.receive(1, [pack({ op: "put", key: "k", value: "v", rid: "put" })]);
  const redirect = byRid(h, "put");
  assert.equal(redirect?.error, "NOT_LEADER");
  assert.equal(redirect?.leaderId, 7);
  assert.equal(redirect?.leader, "tcp://10.0.0.7:5000");
  h.service.receive(2, [pack({ op: "status", rid: "status" })]);
  assert.deepEqual((byRid(h, "status")?.members as { id: number }[]).map((member) => member.id), [1, 2, 3, 7]);
});
