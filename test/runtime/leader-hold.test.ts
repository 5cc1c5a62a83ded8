/**
 * docs/protocol.md §9: a request that reaches a server while the leadership
 * is in doubt (no leader known, or the one it follows gone silent) waits for
 * an election to settle, once, and is then served with what is known: sent to
 * the new leader, taken on if this server won, or NO_LEADER after the hold.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { raftConfigDefaults } from "../../src/raft/index.ts";
import { harness, turns, winElection } from "./server-harness.ts";

const leaderWatch = { silenceMs: 30, holdMs: 300 } as const;
const put = (rid: string) => [pack({ op: "put", key: "k", value: "v", client: "c", seq: 1, rid })];
const heartbeatFrom3 = (term: number) =>
  ({ type: "AppendEntries", term, from: 3, to: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 }) as const;

test("a server that knows no leader holds a request and sends it to the leader it then hears from", async () => {
  const h = harness({ leaderWatch });
  h.service.receive(1, put("a"));
  await turns();
  assert.equal(h.replies.length, 0, "held: no leader is known yet");
  h.advanceTime(10);
  h.server.receivePeerMessage(heartbeatFrom3(1));
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.equal(h.replies.length, 1);
  assert.equal(h.replies[0]?.error, "NOT_LEADER");
  assert.equal(h.replies[0]?.leaderId, 3);
  assert.deepEqual(h.violations, []);
});

test("a held request is answered NO_LEADER when no leader appears within the hold time", async () => {
  const h = harness({ leaderWatch });
  h.service.receive(1, put("a"));
  h.advanceTime(leaderWatch.holdMs - 1);
  await turns();
  assert.equal(h.replies.length, 0);
  h.advanceTime(2);
  await turns();
  assert.equal(h.replies.length, 1);
  assert.equal(h.replies[0]?.error, "NO_LEADER");
});

test("a follower whose leader went silent holds requests; one heard from lately redirects at once", async () => {
  const h = harness({ leaderWatch });
  h.server.receivePeerMessage(heartbeatFrom3(1));
  await turns();
  h.storage.releaseAll();
  await turns();
  h.service.receive(1, put("fresh"));
  await turns();
  assert.deepEqual(
    h.replies.map((reply) => [reply.rid, reply.error]),
    [["fresh", "NOT_LEADER"]],
  );

  h.advanceTime(leaderWatch.silenceMs + 1);
  h.service.receive(2, put("silent"));
  await turns();
  assert.equal(h.replies.length, 1, "the leader missed its heartbeats: the request waits");
  h.server.receivePeerMessage(heartbeatFrom3(1));
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(
    h.replies.map((reply) => [reply.rid, reply.error, reply.leaderId]),
    [
      ["fresh", "NOT_LEADER", 3],
      ["silent", "NOT_LEADER", 3],
    ],
  );
});

test("a request held by a server that then wins the election is taken on by it", async () => {
  // Held longer than the election takes here.
  const h = harness({ leaderWatch: { ...leaderWatch, holdMs: 2 * raftConfigDefaults.electionTimeoutMsMax } });
  h.service.receive(1, put("a"));
  await winElection(h);
  assert.equal(h.replies.length, 0, "taken on as a write, not redirected");
  assert.equal(h.node.status().lastLogIndex, 2, "the no-op and the held write");
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 2, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(
    h.replies.map((reply) => [reply.rid, reply.ok]),
    [["a", true]],
  );
  assert.deepEqual(h.violations, []);
});

test("stopping answers held requests at once", async () => {
  const h = harness({ leaderWatch });
  h.service.receive(1, put("a"));
  await turns();
  await h.server.stop();
  assert.equal(h.replies[0]?.error, "SHUTTING_DOWN");
});
