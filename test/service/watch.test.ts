/**
 * A watch (docs/protocol.md §4) through the KV service, the runtime and a
 * real Raft core and store: answered at once when changes are there; held
 * while nothing it wants is applied, and answered as soon as a matching
 * change is, with `next` past what it skipped; answered empty with `next`
 * when its waitMs passes or the server stops; served by a follower from its
 * own applied state, never redirected; and COMPACTED with `oldest` when its
 * `from` is gone from the journal.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import type { Entry } from "../../src/raft/index.ts";
import { encodeCommand } from "../../src/kv/commands.ts";
import { becomeLeader, harness, turns, type ServerHarness } from "../runtime/server-harness.ts";

const byRid = (h: ServerHarness, rid: string): Record<string, unknown>[] => h.replies.filter((reply) => reply.rid === rid);

/** Sends a put to leader 1 and commits it with server 2's acknowledgement. */
async function commitPut(h: ServerHarness, key: string, value: unknown): Promise<void> {
  h.service.receive(0, [pack({ op: "put", key, value, rid: `put ${key}` })]);
  await turns();
  h.storage.releaseAll();
  await turns();
  const matchIndex = h.node.status().lastLogIndex;
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.equal(byRid(h, `put ${key}`)[0]?.ok, true, `put ${key} committed`);
}

const watch = (h: ServerHarness, rid: string, fields: Readonly<Record<string, unknown>>): void => h.service.receive(0, [pack({ op: "watch", rid, ...fields })]);

test("a held watch is answered when a matching change is applied, not before; next moves past what it skipped", async () => {
  const h = harness();
  await becomeLeader(h);
  // The no-op at index 1 is applied: the watch starts at 2.
  watch(h, "w", { prefix: "town/", waitMs: 5_000 });
  await turns();
  assert.deepEqual(byRid(h, "w"), [], "held: nothing applied for it yet");

  await commitPut(h, "other", 1);
  assert.deepEqual(byRid(h, "w"), [], "a change to another key does not answer it");
  await commitPut(h, "town/porto", "Porto");
  assert.deepEqual(byRid(h, "w"), [{ ok: true, events: [{ index: 3, type: "put", key: "town/porto", value: "Porto" }], next: 4, term: 1, leaderId: 1, rid: "w" }]);

  // From an index already applied, the events come at once; the ones that do not match are skipped.
  watch(h, "again", { from: 2, waitMs: 5_000 });
  assert.deepEqual(byRid(h, "again")[0]?.events, [
    { index: 2, type: "put", key: "other", value: 1 },
    { index: 3, type: "put", key: "town/porto", value: "Porto" },
  ]);
  watch(h, "limited", { from: 2, limit: 1 });
  assert.deepEqual([byRid(h, "limited")[0]?.events, byRid(h, "limited")[0]?.next], [[{ index: 2, type: "put", key: "other", value: 1 }], 3]);
  assert.deepEqual(h.violations, []);
});

test("a held watch gets an empty page with next when its waitMs passes; waitMs 0 answers at once", async () => {
  const h = harness();
  await becomeLeader(h);
  watch(h, "now", { prefix: "p/", waitMs: 0 });
  assert.deepEqual(byRid(h, "now"), [{ ok: true, events: [], next: 2, term: 1, leaderId: 1, rid: "now" }]);

  watch(h, "held", { prefix: "p/", waitMs: 1_000 });
  await commitPut(h, "q", 1);
  h.advanceTime(999);
  assert.deepEqual(byRid(h, "held"), [], "still held just before its time");
  h.advanceTime(1);
  assert.deepEqual(byRid(h, "held"), [{ ok: true, events: [], next: 3, term: 1, leaderId: 1, rid: "held" }], "next is past the put it skipped");
  assert.deepEqual(h.violations, []);
});

test("a stopping server answers its held watches with what it has, and refuses new ones SHUTTING_DOWN", async () => {
  const h = harness();
  await becomeLeader(h);
  watch(h, "held", { waitMs: 60_000 });
  await turns();
  const stopped = h.server.stop();
  assert.deepEqual(byRid(h, "held"), [{ ok: true, events: [], next: 2, term: 1, leaderId: 1, rid: "held" }]);
  watch(h, "late", {});
  assert.equal(byRid(h, "late")[0]?.error, "SHUTTING_DOWN");
  // The commit index left unsaved is written on the way out.
  for (let round = 0; round < 3; round++) {
    h.storage.releaseAll();
    await turns();
  }
  await stopped;
});

test("a follower serves a watch from its own applied state, without redirecting, as entries reach it", async () => {
  const h = harness();
  watch(h, "w", { prefix: "k", waitMs: 5_000 });
  await turns();
  assert.deepEqual(byRid(h, "w"), [], "held, not redirected: a follower that knows no leader still watches");
  const entries: Entry[] = [
    { index: 1, term: 1, type: "noop", data: new Uint8Array(0) },
    { index: 2, term: 1, type: "command", data: encodeCommand({ op: "put", key: "k", value: pack("v") }) },
  ];
  h.server.receivePeerMessage({ type: "AppendEntries", term: 1, from: 2, to: 1, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 2, readRound: 0 });
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(byRid(h, "w"), [{ ok: true, events: [{ index: 2, type: "put", key: "k", value: "v" }], next: 3, term: 1, leaderId: 2, rid: "w" }]);
  assert.equal(h.node.status().role, "follower");
});

test("a watch from before the journal's start is answered COMPACTED, with the oldest index it can serve", async () => {
  const h = harness({ journal: { eventsMax: 1 } });
  await becomeLeader(h);
  await commitPut(h, "a", 1);
  await commitPut(h, "b", 2);
  watch(h, "w", { from: 2 });
  const [reply] = byRid(h, "w");
  assert.deepEqual([reply?.ok, reply?.error, reply?.oldest], [false, "COMPACTED", 3]);
  assert.match(String(reply?.message), /changes before index 3 are no longer kept by this server.*watch again from 3 or later/);
});
