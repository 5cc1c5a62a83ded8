/**
 * Proves, on real processes, what a cluster does when servers crash
 * (SIGKILL, no chance to flush anything):
 *   - kill -9 of the leader (by the pid its status reports): the others
 *     elect a new leader (Raft paper §5.2), every write acknowledged before
 *     the crash is still there (Leader Completeness, §5.4), new writes
 *     succeed, and the old leader, restarted, catches up (§5.3) to the same
 *     data;
 *   - 3 of 5 killed, leader alive or not: no write and no linearizable read
 *     succeeds (a majority is needed, §5.2, §8), the client library gives up
 *     with TIMEOUT or NO_LEADER within its deadline instead of hanging, and
 *     once the three are back every acknowledged write is present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ZraftError } from "../../src/protocol/errors.ts";
import type { ZraftClient } from "../../src/client/zraft-client.ts";
import { TestCluster, waitFor, type ManagedProcess } from "./harness.ts";
import { clientEndpointOf, requestOnce } from "./cluster-wire.ts";

/** SIGKILLs server `id` by the pid it reports in its status, and waits for the exit. */
async function killByReportedPid(cluster: TestCluster, id: number): Promise<void> {
  const status = await cluster.waitForServer(id);
  const server = cluster.process(`server-${id}`) as ManagedProcess;
  assert.equal(status.pid, server.pid, `server ${id} reports the pid of its process`);
  process.kill(status.pid, "SIGKILL");
  const exit = await server.exited;
  assert.equal(exit.signal, "SIGKILL");
}

/** Writes `count` keys `<prefix>-<i>`, each acknowledged before the next; returns what was written. */
async function writeKeys(client: ZraftClient, prefix: string, count: number): Promise<Map<string, unknown>> {
  const written = new Map<string, unknown>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}-${i}`;
    const value = { i, prefix, text: `value ${i} of ${prefix}` };
    await client.put(key, value);
    written.set(key, value);
  }
  return written;
}

/** Linearizable reads of every key: each must hold what was written. */
async function assertAllPresent(client: ZraftClient, written: ReadonlyMap<string, unknown>): Promise<void> {
  for (const [key, value] of written) {
    const reply = await client.get(key);
    assert.equal(reply.found, true, `${key} is present`);
    assert.deepEqual(reply.value, value, `${key} holds what was acknowledged`);
  }
}

/** Runs `operation`, which must fail with TIMEOUT or NO_LEADER, and not much later than `deadlineMs`. */
async function assertFailsInTime(operation: () => Promise<unknown>, deadlineMs: number): Promise<ZraftError> {
  // Generous: the bound only catches a hang, not a slow machine.
  const marginMs = 5_000;
  const started = performance.now();
  const error = await operation().then(
    (reply) => assert.fail(`succeeded without a majority: ${JSON.stringify(reply)}`),
    (error: unknown) => error,
  );
  const elapsedMs = performance.now() - started;
  assert.ok(error instanceof ZraftError, `a ZraftError, not ${String(error)}`);
  assert.ok(error.code === "TIMEOUT" || error.code === "NO_LEADER", `TIMEOUT or NO_LEADER, not ${error.code}: ${error.message}`);
  assert.ok(elapsedMs < deadlineMs + marginMs, `gave up after ${Math.round(elapsedMs)} ms, deadline ${deadlineMs} ms`);
  return error;
}

/**
 * Restarts the killed servers and checks the cluster recovered: every
 * acknowledged write is there, the write that timed out may or may not have
 * committed (TIMEOUT, docs/protocol.md §5) but holds nothing else, and writes work.
 */
async function restartAndCheck(cluster: TestCluster, client: ZraftClient, killed: readonly number[], written: ReadonlyMap<string, unknown>): Promise<void> {
  for (const id of killed) cluster.startServer(id);
  await Promise.all(killed.map((id) => cluster.waitForServer(id)));
  await cluster.findLeader();
  await assertAllPresent(client, written);
  const unconfirmed = await client.get("unconfirmed");
  if (unconfirmed.found) assert.equal(unconfirmed.value, "maybe");
  await client.put("after-recovery", true);
  assert.equal((await client.get("after-recovery")).value, true);
}

test("kill -9 of the leader: a new leader, no acknowledged write lost, new writes, the old leader catches up", async (t) => {
  const cluster = await TestCluster.start(t);
  const client = cluster.client();
  const before = await writeKeys(client, "before", 20);

  const oldLeader = await cluster.findLeader();
  await killByReportedPid(cluster, oldLeader.id);
  const newLeader = await cluster.findLeader();
  assert.notEqual(newLeader.id, oldLeader.id);
  assert.ok(newLeader.term > oldLeader.term, `term ${newLeader.term} after ${oldLeader.term}`);

  await assertAllPresent(client, before);
  const after = await writeKeys(client, "after", 10);
  await assertAllPresent(client, after);

  cluster.startServer(oldLeader.id);
  await cluster.waitForServer(oldLeader.id);
  const leaderCommit = (await client.status(newLeader.id)).commitIndex;
  await waitFor(
    async () => {
      const status = await cluster.status(oldLeader.id);
      return status !== undefined && status.commitIndex >= leaderCommit && status.lastApplied >= leaderCommit;
    },
    { timeoutMs: 20_000, what: `the restarted server ${oldLeader.id} to reach commit index ${leaderCommit}` },
  );

  const restarted = clientEndpointOf(cluster, oldLeader.id);
  for (const [key, value] of [...before, ...after]) {
    const reply = await requestOnce(restarted, { op: "get", key, stale: true });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.deepEqual(reply.value, value, `the restarted server holds ${key}`);
  }
  const everything = await client.list();
  const onRestarted = await requestOnce(restarted, { op: "list", stale: true });
  assert.deepEqual(onRestarted.entries, everything.entries, "the restarted server's whole store matches the leader's");
});

test("3 of 5 killed with the leader alive: writes and linearizable reads fail in time; all acknowledged writes survive", async (t) => {
  const cluster = await TestCluster.start(t);
  const client = cluster.client();
  const written = await writeKeys(client, "kept", 10);
  const leader = await cluster.findLeader();
  const killed = cluster.serverIds.filter((id) => id !== leader.id).slice(0, 3);
  await Promise.all(killed.map((id) => cluster.kill(id)));

  const deadlineMs = 3_000;
  // Two clients, so that the write and the read wait out their deadlines together.
  const writer = cluster.client({ serverId: leader.id, deadlineMs, requestTimeoutMs: 500 });
  const reader = cluster.client({ serverId: leader.id, deadlineMs, requestTimeoutMs: 500 });
  await Promise.all([
    assertFailsInTime(() => writer.put("unconfirmed", "maybe"), deadlineMs),
    assertFailsInTime(() => reader.get("kept-0"), deadlineMs),
  ]);

  await restartAndCheck(cluster, client, killed, written);
});

test("3 of 5 killed, the leader among them: writes fail in time with no leader; all acknowledged writes survive", async (t) => {
  const cluster = await TestCluster.start(t);
  const client = cluster.client();
  const written = await writeKeys(client, "kept", 10);
  const leader = await cluster.findLeader();
  const killed = [leader.id, ...cluster.serverIds.filter((id) => id !== leader.id).slice(0, 2)];
  await Promise.all(killed.map((id) => cluster.kill(id)));

  const deadlineMs = 3_000;
  const survivor = cluster.serverIds.find((id) => !killed.includes(id)) as number;
  const orphaned = cluster.client({ serverId: survivor, deadlineMs, requestTimeoutMs: 500 });
  const error = await assertFailsInTime(() => orphaned.put("unconfirmed", "maybe"), deadlineMs);
  assert.doesNotMatch(error.message, /answered (BAD_REQUEST|SHUTTING_DOWN)/);

  await restartAndCheck(cluster, client, killed, written);
});
