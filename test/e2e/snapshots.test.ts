/**
 * Snapshots and log compaction on real processes (Raft dissertation ch. 5,
 * docs/architecture.md): with a small snapshot interval every server
 * compacts its log while clients write; a follower that was down while the
 * others compacted past it catches up by InstallSnapshot while writes go
 * on, and ends with the same store as the leader; a restart is the stored
 * snapshot plus the log after it, and loses nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, waitFor } from "./harness.ts";
import { clientEndpointOf, requestOnce } from "./cluster-wire.ts";

const snapshotConfig = { snapshot: { entries: 200, keepEntries: 20 } };

async function writeKeys(cluster: TestCluster, prefix: string, count: number, acked: Map<string, number>): Promise<void> {
  const client = cluster.client({ deadlineMs: 30_000 });
  const writers = 8;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let n = w; n < count; n += writers) {
        const key = `${prefix}${String(n).padStart(5, "0")}`;
        await client.put(key, n);
        acked.set(key, n);
      }
    }),
  );
}

function serverLog(cluster: TestCluster, id: number): string {
  return readFileSync(join(cluster.dir, `server-${id}.log`), "utf8");
}

async function staleListOf(cluster: TestCluster, id: number): Promise<Map<string, unknown>> {
  const pairs = new Map<string, unknown>();
  let after: string | undefined;
  for (;;) {
    const reply = await requestOnce(clientEndpointOf(cluster, id), { op: "list", stale: true, ...(after === undefined ? {} : { after }) });
    assert.equal(reply.ok, true, `stale list on server ${id}: ${JSON.stringify(reply)}`);
    const entries = reply.entries as [string, unknown][];
    for (const [key, value] of entries) pairs.set(key, value);
    if (reply.more !== true) return pairs;
    after = entries.at(-1)![0];
  }
}

test("a follower down while the others compact catches up by snapshot while writes go on; a restart loses nothing", async (t) => {
  const cluster = await TestCluster.start(t, { extraConfig: snapshotConfig });
  const leader = await cluster.findLeader({ timeoutMs: 20_000 });
  const behind = cluster.serverIds.find((id) => id !== leader.id)!;
  await cluster.kill(behind);

  const acked = new Map<string, number>();
  await writeKeys(cluster, "before/", 1200, acked);

  // It comes back while writes continue: the log it needs is compacted on every other server.
  cluster.startServer(behind);
  const during = writeKeys(cluster, "during/", 600, acked);
  await waitFor(() => serverLog(cluster, behind).includes("installed the snapshot of server"), { timeoutMs: 30_000, what: `server ${behind} installing a snapshot` });
  await during;

  const commit = (await cluster.findLeader()).commitIndex;
  await waitFor(async () => ((await cluster.status(behind))?.lastApplied ?? 0) >= commit, { timeoutMs: 30_000, what: `server ${behind} applying up to ${commit}` });
  const caughtUp = await staleListOf(cluster, behind);
  assert.equal(caughtUp.size, acked.size, `server ${behind} holds every acknowledged key`);
  for (const [key, value] of acked) assert.equal(caughtUp.get(key), value, `${key} on server ${behind}`);

  // Every server compacted: a restart of all of them is the snapshot plus the log's tail.
  await Promise.all(cluster.serverIds.map((id) => cluster.kill(id)));
  for (const id of cluster.serverIds) cluster.startServer(id);
  await Promise.all(cluster.serverIds.map((id) => cluster.waitForServer(id, { timeoutMs: 30_000 })));
  await cluster.findLeader({ timeoutMs: 20_000 });
  for (const id of cluster.serverIds) {
    assert.match(serverLog(cluster, id), /serving clients .*: term \d+, snapshot up to \d+, (log \d+ to \d+|no log after it), \d+ committed, \d+ applied \(\d+ replayed\)/, `server ${id} restarted from its snapshot`);
  }
  const reader = cluster.client();
  const listed = new Map((await reader.listAll("")).entries);
  assert.equal(listed.size, acked.size, "every acknowledged key after the restart");
  for (const [key, value] of acked) assert.equal(listed.get(key), value, `${key} after the restart`);
});
