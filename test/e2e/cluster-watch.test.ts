/**
 * Proves watch (docs/protocol.md §4, §8) on real processes:
 *   - a watcher that starts at the leader sees every committed change under
 *     its prefix exactly once and in log order while a writer puts, swaps
 *     and deletes, and the leader is killed under both of them: the watcher
 *     goes on at another server from the `next` it had, since indexes are
 *     the cluster's. Checked against the writer's acknowledged writes: each
 *     appears once, with its index, type, key and value; no index appears
 *     twice; nothing outside the prefix appears; anything else is a write
 *     whose outcome the writer was not told (TIMEOUT). Servers snapshot and
 *     compact their logs every 40 entries meanwhile: a watch is served from
 *     the store's journal of applied changes, which compaction leaves alone;
 *   - `zraft watch PREFIX --from 1` prints each change as a line as it
 *     happens and exits 0 on SIGINT.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { ZraftError } from "../../src/protocol/errors.ts";
import type { WatchEvent } from "../../src/client/zraft-client.ts";
import { spawnProjectProcess } from "../../src/local-cluster/project-process.ts";
import { TestCluster, waitFor } from "./harness.ts";

/** A change the writer was told was committed: what the watcher must report at that index. */
type Acknowledged = WatchEvent;

test("a watcher sees every committed change once, in order, while the leader it watches is killed under a writer and logs are compacted", async (t) => {
  const cluster = await TestCluster.start(t, { extraConfig: { snapshot: { entries: 40, keepEntries: 5 } } });
  const leader = await cluster.findLeader();
  const writer = cluster.client();
  const watcher = cluster.client({ serverId: leader.id });
  const failovers: unknown[] = [];
  watcher.on("failover", (event) => failovers.push(event));

  // The watch starts before the first write, from the log's beginning.
  const seen: WatchEvent[] = [];
  const stopper = new AbortController();
  const watching = (async () => {
    for await (const event of watcher.watch("w/", { from: 1, signal: stopper.signal })) seen.push(event);
  })();
  t.after(() => stopper.abort());

  const acknowledged: Acknowledged[] = [];
  /** Keys of writes whose outcome is unknown: they may or may not show. */
  const unknown = new Set<string>();
  let writes = 0;
  const write = async (): Promise<void> => {
    const round = writes++;
    const key = `w/${round % 7}`;
    try {
      switch (round % 4) {
        case 0:
        case 1: {
          const value = { round, text: `value ${round}` };
          const reply = await writer.put(key, value);
          acknowledged.push({ index: reply.index, type: "put", key, value });
          break;
        }
        case 2: {
          const reply = await writer.delete(key);
          if (reply.found) acknowledged.push({ index: reply.index, type: "delete", key });
          break;
        }
        default: {
          const current = await writer.get(key);
          const reply = await writer.cas(key, current.found ? current.value : null, round);
          if (reply.swapped) acknowledged.push({ index: reply.index, type: "put", key, value: round });
        }
      }
      // Outside the prefix: must never reach the watcher.
      if (round % 5 === 0) await writer.put(`other/${round}`, round);
    } catch (error) {
      if (!(error instanceof ZraftError && error.code === "TIMEOUT")) throw error;
      unknown.add(key);
    }
  };

  const writing = (async () => {
    for (let i = 0; i < 120; i++) await write();
  })();
  // Halfway through, the leader dies under the writer and under the watcher's poll.
  await waitFor(async () => writes >= 60 && seen.length > 0, { timeoutMs: 20_000, what: "the watcher to see the first 60 writes' changes" });
  await cluster.kill(leader.id);
  await writing;

  const lastIndex = Math.max(...acknowledged.map((change) => change.index));
  await waitFor(async () => seen.some((event) => event.index >= lastIndex), { timeoutMs: 20_000, what: `the watcher to reach index ${lastIndex}` });
  stopper.abort();
  await watching;

  assert.ok(failovers.length >= 1, "the watcher left the killed leader for another server");
  const snapshots = [...(await cluster.statuses()).values()].map((status) => status.snapshotIndex);
  assert.ok(snapshots.every((index) => index > 0), `every live server snapshotted and compacted during the watch: ${snapshots.join(", ")}`);
  for (const [at, event] of seen.entries()) {
    assert.ok(event.key.startsWith("w/"), `only keys under the prefix: ${JSON.stringify(event)}`);
    if (at > 0) assert.ok(event.index > (seen[at - 1] as WatchEvent).index, `in log order, none twice: ${seen[at - 1]?.index} then ${event.index}`);
  }
  const byIndex = new Map(seen.map((event) => [event.index, event]));
  for (const change of acknowledged) assert.deepEqual(byIndex.get(change.index), change, `the acknowledged change at index ${change.index} is reported as it was`);
  const acknowledgedIndexes = new Set(acknowledged.map((change) => change.index));
  for (const event of seen) {
    assert.ok(acknowledgedIndexes.has(event.index) || unknown.has(event.key), `an event no write accounts for: ${JSON.stringify(event)}`);
  }
});

test("zraft watch prints each change as a line as it happens, and exits 0 on SIGINT", async (t) => {
  const cluster = await TestCluster.start(t);
  const client = cluster.client();
  const child = spawnProjectProcess(["client/main.ts", "--config", cluster.configPath, "watch", "p/", "--from", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));

  const put = await client.put("p/town", "Porto");
  await client.put("q/elsewhere", 1);
  // Each line arrives while the command still runs: it is written as the change comes, not at exit.
  await waitFor(async () => stdout.includes("\n"), { timeoutMs: 20_000, what: `the first line (stderr: ${stderr})` });
  const deleted = await client.delete("p/town");
  await waitFor(async () => stdout.split("\n").length > 2, { timeoutMs: 10_000, what: "the second line" });

  child.kill("SIGINT");
  const [code] = (await once(child, "close")) as [number | null];
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `${put.index} put p/town=Porto\n${deleted.index} delete p/town\n`);
  assert.equal(stderr, "");
});
