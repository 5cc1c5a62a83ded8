/**
 * Proves the exactly-once rule (docs/protocol.md §8) on real processes: a write with
 * `client` and `seq` takes effect at most once however often it is retried
 * and whichever server the retry reaches, and a retry of a committed write
 * gets the original reply (client sessions, Raft dissertation §6.3).
 *
 * The write is a compare-and-swap, whose reply shows a second application:
 * applied twice, `cas counter 0 → 1` would answer `swapped: false`. Requests
 * go over raw REQ sockets so that the test, not a client library, chooses the
 * session id and seq and decides when a reply is read or lost. The leader is
 * killed with SIGKILL (a) after its reply was read, (b) after the write
 * reached a majority but before its reply was read, (c) right after the
 * write was sent, before anything is known of it.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { encodeRequest } from "../../src/client/client-codec.ts";
import { TestCluster, waitFor } from "./harness.ts";
import { WireRequester, clientEndpointOf, requestLeader, type ReplyFields } from "./cluster-wire.ts";

function assertOk(reply: ReplyFields, what: string): void {
  assert.equal(reply.ok, true, `${what}: ${JSON.stringify(reply)}`);
}

/** The linearizable value of `key`, from whoever leads. */
async function readValue(cluster: TestCluster, key: string): Promise<unknown> {
  const { reply } = await requestLeader(cluster, { op: "get", key });
  assertOk(reply, `get ${key}`);
  return reply.value;
}

test("a cas retried on the new leader after the old one's crash gets its original reply", async (t) => {
  const cluster = await TestCluster.start(t);
  const client = "exactly-once-answered";
  assertOk((await requestLeader(cluster, { op: "put", key: "k", value: 1, client, seq: 1 })).reply, "put k=1");
  const cas = encodeRequest({ op: "cas", key: "k", expect: 1, value: 2, client, seq: 2 });
  const original = await requestLeader(cluster, cas);
  assertOk(original.reply, "cas k 1→2");
  assert.equal(original.reply.swapped, true);
  assert.equal(original.reply.value, 2);

  await cluster.kill(original.serverId);
  const retried = await requestLeader(cluster, cas);
  assert.notEqual(retried.serverId, original.serverId);
  assertOk(retried.reply, "the retried cas");
  assert.deepEqual(
    { index: retried.reply.index, swapped: retried.reply.swapped, value: retried.reply.value },
    { index: original.reply.index, swapped: true, value: 2 },
    "the retry gets the original reply, not a failed cas",
  );
  assert.equal(await readValue(cluster, "k"), 2);
});

/**
 * Sends `cas counter 0 → 1` (seq 2) to the leader and never reads the
 * reply; `beforeKill` decides how long to wait before the leader is
 * SIGKILLed. Then the same bytes go to the new leader: the cas must have
 * happened exactly once.
 */
async function lostReplyRound(t: TestContext, beforeKill: (cluster: TestCluster, casIndex: number) => Promise<void>): Promise<void> {
  const cluster = await TestCluster.start(t);
  const client = "exactly-once-lost-reply";
  const put = await requestLeader(cluster, { op: "put", key: "counter", value: 0, client, seq: 1 });
  assertOk(put.reply, "put counter=0");
  const cas = encodeRequest({ op: "cas", key: "counter", expect: 0, value: 1, client, seq: 2 });
  const lost = new WireRequester(clientEndpointOf(cluster, put.serverId));
  t.after(() => lost.close());
  await lost.send(cas);
  await beforeKill(cluster, (put.reply.index as number) + 1);
  await cluster.kill(put.serverId);

  const retried = await requestLeader(cluster, cas);
  assertOk(retried.reply, "the retried cas");
  assert.equal(retried.reply.swapped, true, `applied once, so the retry is not a failed cas: ${JSON.stringify(retried.reply)}`);
  assert.equal(retried.reply.value, 1);
  assert.equal(await readValue(cluster, "counter"), 1);
  // The session moves on normally: the next seq is a new write.
  const next = await requestLeader(cluster, { op: "cas", key: "counter", expect: 1, value: 2, client, seq: 3 });
  assert.equal(next.reply.swapped, true, JSON.stringify(next.reply));
}

test("a write whose reply was lost after it reached a majority, retried elsewhere, takes effect once", async (t) => {
  await lostReplyRound(t, async (cluster, casIndex) => {
    const majority = Math.floor(cluster.serverIds.length / 2) + 1;
    await waitFor(
      async () => [...(await cluster.statuses()).values()].filter((status) => status.lastLogIndex >= casIndex).length >= majority,
      { timeoutMs: 15_000, what: `entry ${casIndex} on a majority` },
    );
  });
});

test("a write sent just before the leader's kill -9, retried elsewhere, takes effect at most once", async (t) => {
  await lostReplyRound(t, async () => {});
});
