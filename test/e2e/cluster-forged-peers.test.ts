/**
 * Forged Raft messages that pass every shape check, published on the
 * forwarder as an outsider could without encryption (docs/architecture.md
 * §6): each server gets an AppendEntries claiming a higher term from a real
 * member that rewrites the committed entry 1, and one that appends 40
 * entries whose command bytes are not a command and claims them committed.
 * Before these were dropped and applied as failed no-ops, both stopped every
 * server on an assertion. Now every server logs the drop with the sender,
 * applies the garbage as no-ops, keeps running, and every acknowledged
 * write is still there.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { Publisher } from "zeromq";
import { ForgedStamps } from "./forged-stamps.ts";
import { TestCluster, waitFor } from "./harness.ts";

test("forged AppendEntries neither crash a server nor lose an acknowledged write", async (t) => {
  const cluster = await TestCluster.start(t, { electionTimeoutMs: [300, 600], heartbeatMs: 50 });
  const client = cluster.client();
  const acknowledged = new Map<string, string>();
  for (let i = 0; i < 20; i++) {
    await client.put(`k${i}`, `v${i}`);
    acknowledged.set(`k${i}`, `v${i}`);
  }
  const leader = await cluster.findLeader();
  const statuses = await cluster.statuses();

  const publisher = new Publisher({ linger: 0 });
  t.after(() => publisher.close());
  publisher.connect(cluster.config.forwarders[0]?.pub as string);

  const stamps = new ForgedStamps();
  const forgeries = (id: number): Uint8Array[][] => {
    const status = statuses.get(id);
    assert.ok(status !== undefined);
    const from = cluster.serverIds.find((other) => other !== id && other !== leader.id) as number;
    const term = leader.term + 5;
    const topic = Buffer.from(`raft/${id}/`);
    const rewrite = {
      type: "AppendEntries",
      term,
      from,
      to: id,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [{ index: 1, term, type: "command", data: Buffer.from([0xc1]) }],
      leaderCommit: 1,
      readRound: 0,
    };
    // Every entry after the leader's no-op was written in its term: that is the term of the last entry.
    const garbage = {
      type: "AppendEntries",
      term,
      from,
      to: id,
      prevLogIndex: status.lastLogIndex,
      prevLogTerm: leader.term,
      entries: Array.from({ length: 40 }, (_, i) => ({ index: status.lastLogIndex + 1 + i, term, type: "command", data: Buffer.from([0xc1, i]) })),
      leaderCommit: status.lastLogIndex + 40,
      readRound: 0,
    };
    return [
      [topic, pack(rewrite), stamps.next(from)],
      [topic, pack(garbage), stamps.next(from)],
    ];
  };

  // The slow joiner: a PUB socket drops what it sends before the forwarder has its subscription, so repeat until every server logged the drop.
  const dropLogged = (id: number): boolean => /dropped AppendEntries from server \d+: it rewrites entry 1, which is committed/.test(cluster.process(`server-${id}`)?.output() ?? "");
  await waitFor(
    async () => {
      for (const id of cluster.serverIds) for (const frames of forgeries(id)) await publisher.send(frames);
      return cluster.serverIds.every(dropLogged);
    },
    { timeoutMs: 20_000, intervalMs: 200, what: "every server to log the forged rewrite of entry 1 as dropped" },
  );

  await waitFor(() => cluster.serverIds.some((id) => /as a no-op: its data is not a command/.test(cluster.process(`server-${id}`)?.output() ?? "")), {
    timeoutMs: 20_000,
    what: "a server to apply a forged garbage entry as a no-op",
  });
  for (const id of cluster.serverIds) assert.equal(cluster.process(`server-${id}`)?.running, true, `server ${id} still runs`);

  await cluster.findLeader({ timeoutMs: 20_000 });
  const reader = cluster.client();
  for (const [key, value] of acknowledged) assert.equal((await reader.get(key)).value, value, `${key} survived`);
  await reader.put("after-forgery", "fine");
  assert.equal((await reader.get("after-forgery")).value, "fine");
  for (const id of cluster.serverIds) assert.equal(cluster.process(`server-${id}`)?.running, true, `server ${id} still runs`);
});
