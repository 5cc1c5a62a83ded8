/**
 * What a leader that loses its office (§5.1: it sees a higher term) tells the
 * clients it was serving. Its pending writes are in the log and may still
 * commit under the next leader, so their outcome is unknown: TIMEOUT, to be
 * retried with the same client/seq. Its unconfirmed linearizable reads had
 * no effect: NOT_LEADER, with the new leader when known.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { becomeLeader, harness, turns } from "./server-harness.ts";

test("a leader that steps down answers pending writes TIMEOUT and pending reads NOT_LEADER", async () => {
  const h = harness();
  await becomeLeader(h);
  h.service.receive(1, [pack({ op: "put", key: "k", value: "v", client: "c", seq: 1, rid: "write" })]);
  h.service.receive(2, [pack({ op: "get", key: "k", rid: "read" })]);
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.equal(h.replies.length, 0, "neither is answered yet: no majority has acknowledged");

  // Server 3 leads term 2 and tells us so.
  h.server.receivePeerMessage({ type: "AppendEntries", term: 2, from: 3, to: 1, prevLogIndex: 2, prevLogTerm: 1, entries: [], leaderCommit: 1, readRound: 0 });
  await turns();
  h.storage.releaseAll();
  await turns();

  const byRid = new Map(h.replies.map((reply) => [reply.rid, reply]));
  assert.equal(byRid.get("write")?.error, "TIMEOUT");
  assert.match(String(byRid.get("write")?.message), /may or may not have taken effect/);
  assert.equal(byRid.get("read")?.error, "NOT_LEADER");
  assert.equal(byRid.get("read")?.leaderId, 3);
  assert.equal(byRid.get("read")?.term, 2);
  assert.deepEqual(h.violations, []);
});
