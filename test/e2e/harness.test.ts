/**
 * Proves the e2e harness itself, so that other e2e tests can rely on it:
 * a cluster starts on free ports with its config in a temp directory,
 * findLeader() names the server that leads (the one whose pid status
 * reports), kill() and restart() act on exactly one server, output lands in
 * per-process log files, and cleanup() leaves no process and no directory.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { TestCluster, freeLoopbackPorts, isProcessAlive, waitFor } from "./harness.ts";

test("free loopback ports are distinct and below the ephemeral range", async () => {
  const ports = await freeLoopbackPorts(20);
  assert.equal(new Set(ports).size, 20);
  assert.ok(ports.every((port) => port >= 20_000 && port < 32_768));
  const more = await freeLoopbackPorts(5);
  assert.ok(more.every((port) => !ports.includes(port)), "never handed out twice in one process");
});

test("waitFor returns the first truthy value, and times out with the last error", async () => {
  let calls = 0;
  assert.equal(await waitFor(() => (++calls === 3 ? "ready" : undefined), { intervalMs: 1 }), "ready");
  await assert.rejects(
    waitFor(
      () => {
        throw new Error("still down");
      },
      { timeoutMs: 50, intervalMs: 5, what: "the impossible" },
    ),
    /timed out after 50 ms waiting for the impossible \(last error: still down\)/,
  );
});

test("start, findLeader, kill the leader, a new leader, restart, cleanup", async () => {
  const cluster = await TestCluster.start();
  let cleanedUp = false;
  try {
    const config = JSON.parse(readFileSync(cluster.configPath, "utf8")) as { electionTimeoutMs: number[]; heartbeatMs: number; dataDir: string };
    assert.deepEqual([config.electionTimeoutMs, config.heartbeatMs], [[150, 300], 50]);
    assert.ok(config.dataDir.startsWith(cluster.dir));

    const leader = await cluster.findLeader();
    assert.equal(leader.pid, cluster.process(`server-${leader.id}`)?.pid, "status reports the process's own pid");

    const exit = await cluster.kill(leader.id);
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(await cluster.status(leader.id, 200), undefined, "a killed server does not answer");
    const next = await cluster.findLeader();
    assert.notEqual(next.id, leader.id);
    assert.ok(next.term > leader.term);

    const restarted = await cluster.restart(leader.id);
    assert.equal(restarted.id, leader.id);
    assert.notEqual(restarted.pid, leader.pid);
    await waitFor(async () => (await cluster.status(leader.id))?.leaderId !== null, { what: "the restarted server to learn the leader" });
    assert.match(cluster.process(`server-${leader.id}`)?.output() ?? "", /serving clients[\s\S]*serving clients/, "one log file across restarts");
    assert.match(cluster.diagnostics(), /forwarder-0 │ /);

    const pids = cluster.serverIds.map((id) => cluster.process(`server-${id}`)?.pid as number);
    pids.push(cluster.process("forwarder-0")?.pid as number);
    await cluster.cleanup();
    cleanedUp = true;
    assert.ok(pids.every((pid) => !isProcessAlive(pid)), "no process survives cleanup");
    assert.ok(!existsSync(cluster.dir), "the temp directory is gone");
  } finally {
    if (!cleanedUp) await cluster.cleanup({ failed: true });
  }
});
