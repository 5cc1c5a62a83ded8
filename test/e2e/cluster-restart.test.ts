/**
 * Proves durability across a full cluster restart on real processes
 * (docs/protocol.md §8: an acknowledged write survives the crash and restart
 * of every server; Raft paper §5, Figure 2: currentTerm, votedFor and the
 * log are persisted before a server answers). Four clients write
 * continuously; all five servers are SIGKILLed at once in the middle of it,
 * then started again from their data directories. Every write acknowledged
 * (before the crash, or after it by a retry with the same client/seq) is
 * present, and every server's store converges to the same content.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestCluster, waitFor } from "./harness.ts";
import { clientEndpointOf, requestOnce } from "./cluster-wire.ts";

const writerCount = 4;
/** Acknowledged writes wanted before the crash, so that it hits a cluster with real content. */
const ackedBeforeCrashMin = 60;

test("all five servers SIGKILLed mid-traffic and restarted: every acknowledged write is present everywhere", async (t) => {
  const cluster = await TestCluster.start(t);
  await cluster.findLeader();

  const attempted = new Map<string, unknown>();
  const acked = new Map<string, unknown>();
  let crashed = false;
  const writers = Array.from({ length: writerCount }, async (_, writer) => {
    const client = cluster.client({ deadlineMs: 30_000 });
    for (let n = 0; !crashed; n++) {
      const key = `writer-${writer}/${String(n).padStart(5, "0")}`;
      const value = { writer, n };
      attempted.set(key, value);
      // A write in flight at the crash may fail or succeed later; only acknowledged ones are checked.
      const ok = await client.put(key, value).then(() => true, () => false);
      if (ok) acked.set(key, value);
    }
  });
  await waitFor(() => acked.size >= ackedBeforeCrashMin, { timeoutMs: 20_000, what: `${ackedBeforeCrashMin} acknowledged writes` });

  await Promise.all(cluster.serverIds.map((id) => cluster.kill(id)));
  crashed = true;
  const ackedAtCrash = acked.size;
  for (const id of cluster.serverIds) cluster.startServer(id);
  await Promise.all(cluster.serverIds.map((id) => cluster.waitForServer(id)));
  await cluster.findLeader({ timeoutMs: 20_000 });
  await Promise.all(writers);
  assert.ok(acked.size >= ackedAtCrash);

  const reader = cluster.client();
  const listed = await reader.list("writer-");
  const stored = new Map(listed.entries);
  for (const [key, value] of stored) assert.deepEqual(value, attempted.get(key), `${key} was written by a writer, as stored`);
  for (const [key, value] of acked) {
    assert.deepEqual(stored.get(key), value, `acknowledged ${key} is listed`);
    const reply = await reader.get(key);
    assert.deepEqual(reply.value, value, `linearizable get of ${key}`);
  }

  const leaderCommit = (await cluster.findLeader()).commitIndex;
  for (const id of cluster.serverIds) {
    const endpoint = clientEndpointOf(cluster, id);
    const stale = await waitFor(
      async () => {
        const status = await cluster.status(id);
        if (status === undefined || status.lastApplied < leaderCommit) return undefined;
        return requestOnce(endpoint, { op: "list", prefix: "writer-", stale: true });
      },
      { timeoutMs: 20_000, what: `server ${id} to apply up to ${leaderCommit}` },
    );
    assert.deepEqual(stale.entries, listed.entries, `server ${id}'s store after the restart`);
  }
});
