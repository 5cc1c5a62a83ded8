/**
 * Every write a leader took on gets exactly one answer, and a write whose
 * entry is in the log gets TIMEOUT (outcome unknown: it may still commit
 * under another leader, Raft paper §5.4) whenever this server can no longer
 * confirm it: when it steps down, when it stops, and when it loses office
 * and wins it back while a save was in flight, so that the Ready it next
 * shows says "leader" as before while its log was rewritten underneath.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { raftConfigDefaults, type Entry } from "../../src/raft/index.ts";
import { becomeLeader, harness, turns } from "./server-harness.ts";

const byRid = (replies: readonly Record<string, unknown>[]): Map<unknown, Record<string, unknown>[]> => {
  const map = new Map<unknown, Record<string, unknown>[]>();
  for (const reply of replies) map.set(reply.rid, [...(map.get(reply.rid) ?? []), reply]);
  return map;
};

test("a leader that loses office and wins it back during one save answers every earlier write, once", async () => {
  const h = harness();
  await becomeLeader(h);
  for (const [seq, rid] of ["a", "b", "c"].entries()) h.service.receive(0, [pack({ op: "put", key: rid, value: rid, client: "c1", seq: seq + 1, rid })]);
  await turns();
  assert.equal(h.storage.inFlight(), 1, "entries 2..4 of term 1 are being written");

  // While that save is in flight: server 3 leads term 2 and overwrites entry 2 with its own ...
  const entry2: Entry = { index: 2, term: 2, type: "noop", data: new Uint8Array(0) };
  h.server.receivePeerMessage({ type: "AppendEntries", term: 2, from: 3, to: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [entry2], leaderCommit: 1, readRound: 0 });
  // ... then server 1 times out, and wins term 3 with server 2's vote. Its no-op takes index 3.
  h.advanceTime(raftConfigDefaults.electionTimeoutMsMax + 1);
  h.server.receivePeerMessage({ type: "RequestVoteResponse", term: 3, from: 2, to: 1, voteGranted: true });
  assert.equal(h.node.status().role, "leader");
  assert.equal(h.node.status().term, 3);
  // A new write lands at index 4, where write "c" of term 1 once stood.
  h.service.receive(0, [pack({ op: "put", key: "d", value: "d", client: "c2", seq: 1, rid: "d" })]);

  for (let round = 0; round < 5; round++) {
    h.storage.releaseAll();
    await turns();
  }
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 3, from: 2, to: 1, success: true, matchIndex: 4, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  for (let round = 0; round < 5; round++) {
    h.storage.releaseAll();
    await turns();
  }

  const replies = byRid(h.replies);
  for (const rid of ["a", "b", "c"]) {
    assert.equal(replies.get(rid)?.length, 1, `write ${rid} answered exactly once: ${JSON.stringify(h.replies)}`);
    assert.equal(replies.get(rid)?.[0]?.error, "TIMEOUT", `write ${rid}'s outcome is unknown`);
  }
  assert.deepEqual(replies.get("d"), [{ ok: true, index: 4, term: 3, leaderId: 1, rid: "d" }]);
  assert.deepEqual(h.violations, []);
});

test("stopping answers writes already in the log TIMEOUT (they may still commit) and reads SHUTTING_DOWN", async () => {
  const h = harness();
  await becomeLeader(h);
  h.service.receive(0, [pack({ op: "put", key: "k", value: "v", client: "c", seq: 1, rid: "write" })]);
  h.service.receive(0, [pack({ op: "get", key: "k", rid: "read" })]);
  await turns();
  h.storage.releaseAll();
  await turns();
  const stopped = h.server.stop();
  h.storage.releaseAll();
  await stopped;
  const replies = byRid(h.replies);
  assert.equal(replies.get("write")?.[0]?.error, "TIMEOUT");
  assert.match(String(replies.get("write")?.[0]?.message), /shutting down.*may or may not have taken effect/);
  assert.equal(replies.get("read")?.[0]?.error, "SHUTTING_DOWN");
  h.service.receive(0, [pack({ op: "put", key: "k", value: "v", rid: "late" })]);
  assert.equal(byRid(h.replies).get("late")?.[0]?.error, "SHUTTING_DOWN", "nothing new is taken on");
});
