/**
 * Proves, on five real server processes and a forwarder over loopback, the
 * basic life of a cluster: it elects exactly one leader that all five servers
 * name in the same term (Election Safety, Raft paper §5.2); a write sent to a
 * follower is redirected to that leader by the client library and committed
 * (§5.3; docs/protocol.md §5 NOT_LEADER); the write then reaches every server's
 * state machine, as a `stale` get on each of them shows; a linearizable
 * get sent to a follower is refused with NOT_LEADER naming the leader; and a
 * DEALER client that pipelines many writes on one connection gets one reply
 * for each (docs/protocol.md §3: exactly one reply).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RedirectEvent, StatusReply } from "../../src/client/zraft-client.ts";
import { TestCluster, runCommand, waitFor } from "./harness.ts";
import { encodeRequest } from "../../src/client/client-codec.ts";
import { WireDealer, clientEndpointOf, requestOnce } from "./cluster-wire.ts";

/** All five statuses once every server answers and all name the same leader in the same term. */
async function agreedStatuses(cluster: TestCluster): Promise<StatusReply[]> {
  return waitFor(
    async () => {
      const statuses = [...(await cluster.statuses()).values()];
      if (statuses.length !== cluster.serverIds.length) return undefined;
      const [first] = statuses;
      const agreed = statuses.every((status) => status.leaderId !== null && status.term === first?.term && status.leaderId === first.leaderId);
      return agreed ? statuses : undefined;
    },
    { timeoutMs: 20_000, what: "all five servers to name the same leader in the same term" },
  );
}

test("five servers elect one leader; a write sent to a follower is redirected, committed and reaches every server", async (t) => {
  const cluster = await TestCluster.start(t);
  const statuses = await agreedStatuses(cluster);
  const leaders = statuses.filter((status) => status.role === "leader");
  assert.equal(leaders.length, 1, `exactly one leader: ${JSON.stringify(statuses)}`);
  const leader = leaders[0] as StatusReply;
  assert.equal(leader.leaderId, leader.id);
  for (const status of statuses) {
    if (status.id !== leader.id) assert.equal(status.role, "follower", `server ${status.id} follows`);
  }

  const follower = statuses.find((status) => status.role === "follower") as StatusReply;
  const client = cluster.client({ serverId: follower.id });
  const redirects: RedirectEvent[] = [];
  client.on("redirect", (event) => redirects.push(event));
  const put = await client.put("greeting", "hello");
  assert.ok(put.index >= 1, `a committed index: ${put.index}`);
  assert.deepEqual(redirects[0], { from: follower.id, to: leader.id, endpoint: clientEndpointOf(cluster, leader.id) });

  for (const id of cluster.serverIds) {
    const endpoint = clientEndpointOf(cluster, id);
    const reply = await waitFor(
      async () => {
        const answer = await requestOnce(endpoint, { op: "get", key: "greeting", stale: true }, 2_000);
        return answer.ok && answer.found === true ? answer : undefined;
      },
      { timeoutMs: 15_000, what: `server ${id} to apply the write` },
    );
    assert.equal(reply.value, "hello", `server ${id}'s stale read`);
  }

  const refused = await requestOnce(clientEndpointOf(cluster, follower.id), { op: "get", key: "greeting", rid: "linearizable" });
  assert.equal(refused.rid, "linearizable");
  if (refused.ok) {
    // Only if leadership moved to this very server meanwhile (a loaded machine may see an election).
    assert.equal(refused.leaderId, follower.id, `a follower answered a linearizable get: ${JSON.stringify(refused)}`);
    return;
  }
  if (refused.error === "NOT_LEADER") {
    assert.equal(typeof refused.leaderId, "number");
    assert.equal(refused.leader, clientEndpointOf(cluster, refused.leaderId as number));
  } else {
    assert.equal(refused.error, "NO_LEADER");
  }
});

test("a DEALER client that pipelines 300 writes on one connection gets 300 replies", async (t) => {
  const cluster = await TestCluster.start(t);
  t.after(() => cluster.cleanup());
  const leader = await cluster.findLeader();
  // Each reply is due within moments of the previous one; 5 s per reply only bounds the wait for a lost one.
  const dealer = new WireDealer(clientEndpointOf(cluster, leader.id), 5_000);
  t.after(() => dealer.close());
  const count = 300;
  for (let i = 0; i < count; i++) await dealer.send(encodeRequest({ op: "put", key: `pipelined-${i}`, value: i, rid: i }));
  const answered = new Set<unknown>();
  while (answered.size < count) {
    const reply = await dealer.receive();
    assert.equal(reply.ok, true, JSON.stringify(reply));
    answered.add(reply.rid);
  }
});

test("list answers in bounded pages, and the one-shot client follows them to the end", async (t) => {
  const cluster = await TestCluster.start(t);
  const writers = Array.from({ length: 8 }, () => cluster.client());
  const keys = Array.from({ length: 1200 }, (_, i) => `page/${String(i).padStart(4, "0")}`);
  await Promise.all(writers.map(async (writer, w) => {
    for (let i = w; i < keys.length; i += writers.length) await writer.put(keys[i] as string, i);
  }));
  const reader = cluster.client();
  // No limit used to mean the whole store in one reply; a page now holds at most 1000 pairs.
  const first = await reader.list("page/");
  assert.equal(first.entries.length, 1000);
  assert.equal(first.more, true);
  const huge = await reader.list("page/", Number.MAX_SAFE_INTEGER, { stale: true });
  assert.equal(huge.entries.length, 1000, "a stale list is bounded too");
  const all = await reader.listAll("page/");
  assert.deepEqual(all.entries.map(([key]) => key), keys);
  const printed = await runCommand(["client/main.ts", "--config", cluster.configPath, "list", "page/"]);
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(printed.stdout.trim().split("\n").length, 1200, "the CLI prints every key, across pages");
});
