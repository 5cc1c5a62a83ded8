/**
 * A save that fails (a full or failing disk) stops the server from
 * acknowledging anything that is not durable (docs/architecture.md §4):
 * nothing that waited on the save leaves (only the leader's AppendEntries
 * went out alongside it), no later Ready runs, the failure
 * reaches onFatal exactly once, and new requests are refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { StorageWriteError } from "../../src/storage/storage-error.ts";
import { becomeLeader, harness, turns } from "./server-harness.ts";

test("a failed save stops the server: nothing that depended on it is sent or answered, and it takes nothing more on", async () => {
  const h = harness();
  await becomeLeader(h);
  const fatal = h.fatals;
  h.storage.failNextWith(new StorageWriteError("/data/server-1", "writing to disk failed (ENOSPC: no space left on device)"));
  h.sent.length = 0;
  h.service.receive(0, [pack({ op: "put", key: "k", value: "v", rid: "write" })]);
  await turns();
  h.storage.releaseAll();
  await turns(10);

  assert.equal(fatal.length, 1, "the failure reaches onFatal once");
  assert.ok(fatal[0] instanceof StorageWriteError);
  // The entry may have gone to the followers alongside the failed save (dissertation §10.2.1): like a leader that
  // crashed after sending it, it may still commit under the next leader, and its client was never told it did.
  assert.equal(h.node.status().commitIndex, 1, "the leader never counts an entry it failed to save");
  assert.equal(h.replies.filter((reply) => reply.ok === true).length, 0, "nothing is acknowledged");

  // Heartbeats and new requests: the server has stopped.
  h.advanceTime(1_000);
  await turns();
  assert.equal(h.storage.inFlight(), 0, "no later save is started");
  h.service.receive(1, [pack({ op: "put", key: "k2", value: "v", rid: "later" })]);
  assert.equal(h.replies.find((reply) => reply.rid === "later")?.error, "SHUTTING_DOWN");
});
