/**
 * A retry of a session write still in flight on the leader (a client that
 * gave up waiting and sent it again, docs/protocol.md §9) waits for the same
 * entry instead of proposing another, and every request for it gets the
 * reply with its own rid. Writes without a session, and the same write once
 * settled, are proposed as usual. KvService over a stand-in runtime.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KvResult } from "../../src/kv/kv-result.ts";
import type { ProposalOutcome } from "../../src/runtime/raft-server.ts";
import { InFlightWrites } from "../../src/service/in-flight-writes.ts";
import { serviceOver } from "./stand-in-service.ts";

/** A leader that takes every write on and settles it when the test says. */
function standInLeader() {
  const proposals: ((outcome: ProposalOutcome<KvResult>) => void)[] = [];
  const runtime = {
    stopping: false,
    admit: () => null,
    propose: (_data: Uint8Array, settle: (outcome: ProposalOutcome<KvResult>) => void) => proposals.push(settle),
    status: () => ({ id: 1, role: "leader", term: 3, leaderId: 1, commitIndex: 0, lastApplied: 0, lastLogIndex: 0, votedFor: 1 }),
    leaderInDoubt: () => false,
    awaitLeader: () => false,
  };
  const { replies, send } = serviceOver(runtime);
  return { proposals, replies, send };
}

test("a retry of a write in flight joins it: one proposal, a reply to each request with its own rid", () => {
  const { proposals, replies, send } = standInLeader();
  send(1, { op: "put", key: "k", value: "v", client: "c", seq: 1, rid: "first" });
  send(2, { op: "put", key: "k", value: "v", client: "c", seq: 1, rid: "retry" });
  assert.equal(proposals.length, 1);
  assert.equal(replies.length, 0);

  proposals[0]!({ kind: "applied", result: { kind: "put", index: 7 } });
  assert.deepEqual(
    replies.map((reply) => [reply.rid, reply.ok, reply.index]),
    [
      ["first", true, 7],
      ["retry", true, 7],
    ],
  );

  // Settled: no longer in flight, so the same write is proposed again (the store's session answers it then).
  send(3, { op: "put", key: "k", value: "v", client: "c", seq: 1, rid: "later" });
  assert.equal(proposals.length, 2);
});

test("an outcome that is not applied reaches every waiting request too; writes without a session are never joined", () => {
  const { proposals, replies, send } = standInLeader();
  send(1, { op: "delete", key: "k", client: "c", seq: 2, rid: 1 });
  send(2, { op: "delete", key: "k", client: "c", seq: 2, rid: 2 });
  send(3, { op: "delete", key: "k", client: "c", seq: 3, rid: 3 });
  send(4, { op: "delete", key: "k", rid: 4 });
  send(5, { op: "delete", key: "k", rid: 5 });
  assert.equal(proposals.length, 4, "seq 2 once, seq 3, and each write without a session");

  proposals[0]!({ kind: "unknown", reason: "leadership-lost" });
  assert.deepEqual(
    replies.map((reply) => [reply.rid, reply.error]),
    [
      [1, "TIMEOUT"],
      [2, "TIMEOUT"],
    ],
  );
});

test("InFlightWrites: join says whether the write was in flight; take empties it", () => {
  const writes = new InFlightWrites<string>();
  assert.equal(writes.join("c", 1, "a"), false);
  assert.equal(writes.join("c", 1, "b"), true);
  assert.equal(writes.join("c", 2, "x"), false);
  assert.equal(writes.join('c",1', 1, "y"), false, "ids that look alike once joined stay apart");
  assert.equal(writes.size, 3);
  assert.deepEqual(writes.take("c", 1), ["a", "b"]);
  assert.deepEqual(writes.take("c", 1), []);
  assert.equal(writes.size, 2);
});
