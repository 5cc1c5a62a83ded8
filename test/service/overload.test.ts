/**
 * A server past its limits (docs/protocol.md §6: 1000 requests in progress
 * on one connection) refuses the excess cleanly and recovers: a DEALER
 * client pipelines far more writes than the limit on one connection to a
 * leader that cannot commit (a majority of its followers paused), and
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

/** Three times the per-connection limit. */
const pipelined = 3000;

test("writes pipelined past the per-connection limit: each gets one reply, the excess a clean refusal, and serving goes on", async (t) => {
  // Long timeouts: the leader must still lead, unable to commit, while the burst arrives (CheckQuorum would depose it
  // after one election timeout). A leader that commits as fast as the writes come never has 1000 in progress: a
  // fast one did exactly that, and the burst tested nothing.
  const cluster = await TestCluster.start(t, { electionTimeoutMs: [2_000, 4_000], heartbeatMs: 100 });
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
  // Three of four followers paused: no majority, so every write taken on stays in progress.
  const paused = cluster.serverIds.filter((id) => id !== leader.id).slice(0, 3);
  const outcome = new Map<number, string>();
  try {
    for (const id of paused) cluster.signalServer(id, "SIGSTOP");
    for (let i = 0; i < pipelined; i++) await dealer.send(encodeRequest({ op: "put", key: `overload/${i}`, value: i, rid: i }));
    while (outcome.size < pipelined) {
      const reply = await dealer.receive();
      const rid = reply.rid as number;
      assert.ok(!outcome.has(rid), `request ${rid} answered twice`);
      outcome.set(rid, reply.ok === true ? "done" : overloaded.test(String(reply.message)) ? "refused" : String(reply.error));
    }
  } finally {
    for (const id of paused) cluster.signalServer(id, "SIGCONT");
  }
  const counts = new Map<string, number[]>();
  for (const [rid, result] of outcome) counts.set(result, [...(counts.get(result) ?? []), rid]);
  const described = JSON.stringify(Object.fromEntries([...counts].map(([result, rids]) => [result, rids.length])));
  // Those taken on end as TIMEOUT (the outcome unknown), or with the contract's answers for a lost leadership
  // if CheckQuorum deposed the leader meanwhile, or done if resumed followers let them commit; never silence.
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
