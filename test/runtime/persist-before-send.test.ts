/**
 * The persistence rule in the server runtime (Raft paper, Figure 2: "update
 * stable storage before responding to RPCs"; docs/architecture.md §4): no
 * Raft message leaves, no vote is granted and no client is answered while the
 * write of the state they depend on is still in flight. Storage here is a fake
 * whose saves complete only when the test says so; the LMDB tests prove that
 * a completed save is fsync'd.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { raftConfigDefaults, type Entry } from "../../src/raft/index.ts";
import { becomeLeader, harness, turns } from "./server-harness.ts";

test("a vote is granted only after votedFor is durable", async () => {
  const h = harness();
  h.server.receivePeerMessage({ type: "RequestVote", term: 1, from: 2, to: 1, lastLogIndex: 0, lastLogTerm: 0 });
  await turns();
  assert.equal(h.storage.inFlight(), 1, "the vote is being written");
  assert.equal(h.sent.length, 0, "no RequestVoteResponse before the vote is durable");
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(h.storage.saved[0]!.hardState, { currentTerm: 1, votedFor: 2, commitIndex: 0 });
  const response = h.sent.find((m) => m.type === "RequestVoteResponse");
  assert.ok(response && response.type === "RequestVoteResponse" && response.voteGranted);
  assert.deepEqual(h.violations, []);
});

test("a follower acknowledges entries only after they are durable", async () => {
  const h = harness();
  const entries: Entry[] = [{ index: 1, term: 1, type: "noop", data: new Uint8Array(0) }];
  h.server.receivePeerMessage({ type: "AppendEntries", term: 1, from: 2, to: 1, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 0, readRound: 0 });
  await turns();
  assert.equal(h.sent.length, 0, "no AppendEntriesResponse while the entry is being written");
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(h.storage.saved[0]!.entries, entries);
  assert.ok(h.sent.some((m) => m.type === "AppendEntriesResponse" && m.success && m.matchIndex === 1));
  assert.deepEqual(h.violations, []);
});

test("a client's write is answered only after it is durable on a majority that counts the leader only once its own save is done", async () => {
  const h = harness();
  await becomeLeader(h);
  h.sent.length = 0;
  h.service.receive(42, [pack({ op: "put", key: "k", value: "v", rid: 9 })]);
  await turns();
  assert.equal(h.storage.inFlight(), 1, "the leader writes the entry");
  // Dissertation §10.2.1: replication runs alongside the leader's own write.
  assert.ok(h.sent.some((m) => m.type === "AppendEntries" && m.entries.length === 1), "replication during the leader's write");
  // Server 2 got entry 2 (server 3, still being probed, was sent only entry 1, so its acknowledgement of 2 would be a forgery).
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 2, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  await turns();
  assert.equal(h.replies.length, 0, "one follower is no majority while the leader's own write is in flight");
  assert.equal(h.node.status().commitIndex, 1);
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(h.replies, [{ ok: true, index: 2, term: 1, leaderId: 1, rid: 9 }], "committed on a majority: answered without waiting for the commit index write");
  assert.equal(h.storage.criticalInFlight(), 0);
  assert.deepEqual(h.violations, []);
});

test("heartbeats and ReadIndex rounds do not wait behind a save of entries", async () => {
  const h = harness();
  await becomeLeader(h);
  h.service.receive(42, [pack({ op: "put", key: "k", value: "v", rid: 1 })]);
  await turns();
  assert.equal(h.storage.criticalInFlight(), 1, "the leader is writing the entry");
  h.sent.length = 0;
  h.advanceTime(raftConfigDefaults.heartbeatMs + 1);
  assert.ok(h.sent.some((m) => m.type === "AppendEntries" && m.entries.length === 0), "a heartbeat left during the save");
  h.sent.length = 0;
  h.service.receive(43, [pack({ op: "get", key: "k", rid: 2 })]);
  assert.ok(h.sent.some((m) => m.type === "AppendEntries" && m.entries.length === 0 && m.readRound > 0), "the read's heartbeat round left during the save");
  assert.deepEqual(h.violations, []);
  h.storage.releaseAll();
  await turns();
});

test("a new commit index alone costs no save: it rides with the next save, and a clean stop writes the last one", async () => {
  const h = harness();
  await becomeLeader(h);
  assert.equal(h.node.status().commitIndex, 1);
  assert.equal(h.storage.inFlight(), 0, "no fsync for the commit index alone");
  h.service.receive(42, [pack({ op: "put", key: "k", value: "v", rid: 9 })]);
  await turns();
  h.storage.releaseAll();
  await turns();
  const entrySave = h.storage.saved.at(-1)!;
  assert.deepEqual([entrySave.hardState?.commitIndex, entrySave.entries.map((entry) => entry.index)], [1, [2]], "the entry's save carries commit index 1");
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 2, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  await turns();
  assert.equal(h.replies.length, 1, "answered");
  assert.equal(h.storage.inFlight(), 0);
  const stopped = h.server.stop();
  await turns();
  h.storage.releaseAll();
  await stopped;
  assert.deepEqual(h.storage.saved.at(-1), { hardState: { currentTerm: 1, votedFor: 1, commitIndex: 2 }, entries: [] });
  assert.deepEqual(h.violations, []);
});

test("a committed write is answered while the leader saves later entries: the answer depends on nothing that save holds", async () => {
  const h = harness();
  await becomeLeader(h);
  h.service.receive(42, [pack({ op: "put", key: "k", value: "1", rid: 1 })]);
  await turns();
  h.storage.releaseAll();
  await turns();
  // In one turn: server 2 acknowledges entry 2 (a majority with the leader's saved copy), and a new write arrives.
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 2, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  h.service.receive(43, [pack({ op: "put", key: "k", value: "2", rid: 2 })]);
  await turns();
  assert.equal(h.storage.criticalInFlight(), 1, "entry 3 is being saved");
  assert.deepEqual(h.replies, [{ ok: true, index: 2, term: 1, leaderId: 1, rid: 1 }], "entry 2's write answered without waiting for it");
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(h.violations, []);
});

test("a follower's and a candidate's small saves are written inline, a leader's only when they hold one entry, and the mode follows the role", async () => {
  const h = harness();
  h.server.receivePeerMessage({ type: "RequestVote", term: 1, from: 2, to: 1, lastLogIndex: 0, lastLogTerm: 0 });
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(h.storage.savedModes, ["inline"], "a follower's vote");
  h.storage.savedModes.length = 0;
  h.advanceTime(raftConfigDefaults.electionTimeoutMsMax + 1);
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.equal(h.node.status().role, "candidate");
  assert.deepEqual(h.storage.savedModes, ["inline"], "a candidate's vote for itself");
  h.storage.savedModes.length = 0;
  for (const from of [2, 3]) h.server.receivePeerMessage({ type: "RequestVoteResponse", term: 2, from, to: 1, voteGranted: true });
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.equal(h.node.status().role, "leader");
  assert.deepEqual(h.storage.savedModes, ["inline-single"], "the leader's no-op");
  assert.deepEqual(h.violations, []);
});
