/**
 * A server past its limits (docs/protocol.md §6: 1000 requests in progress
 * on one connection) refuses the excess cleanly and recovers: a DEALER
 * client pipelines far more writes than the limit on one connection, and
 * every one of them gets exactly one reply: done, or TIMEOUT saying the
 * server has too many requests in progress (not carried out: the key is
 * absent), or, if the burst cost the leader its office, the contract's
 * answers for that. Then the cluster serves writes again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeRequest } from "../../src/client/client-codec.ts";
import { TestCluster, waitFor } from "../e2e/harness.ts";
import { WireDealer, clientEndpointOf } from "../e2e/cluster-wire.ts";

/** The refusal of a request over a limit (docs/protocol.md §6), a TIMEOUT that says it was not taken on. */
const overloaded = /has too many requests in progress; retry shortly/;

/** Three times the per-connection limit: more arrive at once than the leader can commit meanwhile. */
const pipelined = 3000;

test("writes pipelined past the per-connection limit: each gets one reply, the excess a clean refusal, and serving goes on", async (t) => {
  const cluster = await TestCluster.start(t);
  t.after(() => cluster.cleanup());
  const leader = await cluster.findLeader();
  // Every server follows it, so that a late joiner's election is not mistaken for the burst's doing.
  await waitFor(async () => [...(await cluster.statuses()).values()].filter((status) => status.term === leader.term && status.leaderId === leader.id).length === cluster.serverIds.length, {
    timeoutMs: 15_000,
    what: `every server to follow server ${leader.id}`,
  });
  // 30 s per reply only bounds the wait for a lost one; the replies come within moments of each other.
  const dealer = new WireDealer(clientEndpointOf(cluster, leader.id), 30_000);
  t.after(() => dealer.close());
  for (let i = 0; i < pipelined; i++) await dealer.send(encodeRequest({ op: "put", key: `overload/${i}`, value: i, rid: i }));

  const outcome = new Map<number, string>();
  while (outcome.size < pipelined) {
    const reply = await dealer.receive();
    const rid = reply.rid as number;
    assert.ok(!outcome.has(rid), `request ${rid} answered twice`);
    outcome.set(rid, reply.ok === true ? "done" : overloaded.test(String(reply.message)) ? "refused" : String(reply.error));
  }
  const counts = new Map<string, number[]>();
  for (const [rid, result] of outcome) counts.set(result, [...(counts.get(result) ?? []), rid]);
  const described = JSON.stringify(Object.fromEntries([...counts].map(([result, rids]) => [result, rids.length])));
  // A burst this size may also cost the leader its office (the followers fall behind): those writes get the
  // contract's answers for that, never silence and never another code.
  assert.deepEqual([...counts.keys()].filter((result) => !["done", "refused", "TIMEOUT", "NOT_LEADER", "NO_LEADER"].includes(result)), [], described);
  const refused = counts.get("refused") ?? [];
  assert.ok(refused.length > 0, `some writes were past the limit: ${described}`);

  // Refused means not carried out: the key of a refused write is absent. And the cluster serves on.
  const client = cluster.client();
  t.after(() => client.close());
  assert.equal((await client.get(`overload/${refused[0]}`)).found, false);
  await client.put("overload/after", "served");
  assert.equal((await client.get("overload/after")).value, "served");
});
