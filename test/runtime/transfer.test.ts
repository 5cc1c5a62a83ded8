/**
 * Writes that arrive during a leadership transfer (dissertation §3.10: the
 * leader takes no new proposal while it hands over) are held, not refused:
 * when the target leads they are answered NOT_LEADER naming it, so the
 * client goes straight there; when the transfer is given up, this leader
 * takes them after all.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { raftConfigDefaults } from "../../src/raft/index.ts";
import { becomeLeader, harness, turns } from "./server-harness.ts";

const byRid = (replies: readonly Record<string, unknown>[], rid: string): Record<string, unknown>[] => replies.filter((reply) => reply.rid === rid);

test("a write during a transfer is sent to the new leader once it leads", async () => {
  const h = harness();
  await becomeLeader(h);
  h.service.receive(1, [pack({ op: "admin", action: "transfer", target: 2, rid: "transfer" })]);
  await turns();
  assert.ok(h.sent.some((message) => message.type === "TimeoutNow" && message.to === 2), "server 2 holds the whole log: told to campaign at once");
  h.service.receive(2, [pack({ op: "put", key: "k", value: "v", rid: "write" })]);
  await turns();
  assert.deepEqual(byRid(h.replies, "write"), [], "held while the transfer runs");

  // Server 2 wins term 2 and says so.
  h.server.receivePeerMessage({ type: "AppendEntries", term: 2, from: 2, to: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [], leaderCommit: 1, readRound: 0 });
  for (let round = 0; round < 3; round++) {
    h.storage.releaseAll();
    await turns();
  }
  assert.equal(byRid(h.replies, "transfer")[0]?.ok, true);
  const write = byRid(h.replies, "write");
  assert.equal(write.length, 1);
  assert.equal(write[0]?.error, "NOT_LEADER");
  assert.equal(write[0]?.leaderId, 2, "straight to the new leader");
  assert.deepEqual(h.violations, []);
});

test("a write during a transfer that is given up is taken by the leader after all", async () => {
  const h = harness();
  await becomeLeader(h);
  // Server 3 never acknowledged anything: it is not caught up, and it never answers.
  h.service.receive(1, [pack({ op: "admin", action: "transfer", target: 3, rid: "transfer" })]);
  h.service.receive(2, [pack({ op: "put", key: "k", value: "v", rid: "write" })]);
  await turns();
  assert.deepEqual(byRid(h.replies, "write"), []);
  h.advanceTime(raftConfigDefaults.electionTimeoutMsMax + 1);
  for (let round = 0; round < 3; round++) {
    h.storage.releaseAll();
    await turns();
  }
  assert.equal(byRid(h.replies, "transfer")[0]?.error, "TIMEOUT");
  assert.match(String(byRid(h.replies, "transfer")[0]?.message), /server 3 did not take over/);
  // The held write went into the log; server 2 acknowledges it.
  const append = h.sent.filter((message) => message.type === "AppendEntries" && message.to === 2 && message.entries.length > 0).at(-1);
  assert.ok(append !== undefined && append.type === "AppendEntries");
  const last = append.entries.at(-1)?.index ?? 0;
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: last, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  for (let round = 0; round < 3; round++) {
    h.storage.releaseAll();
    await turns();
  }
  assert.equal(byRid(h.replies, "write")[0]?.ok, true, JSON.stringify(h.replies));
  assert.deepEqual(h.violations, []);
});
