/**
 * `npm run bench` as a user runs it (src/bench/bench-main.ts), briefly:
 * two steps against a fresh cluster. It must exit 0, print a table per
 * step and the read-back, write JSON of the expected shape, and leave no
 * process behind; a bad option exits 2 with one line and the usage. Ctrl-C
 * ends a long step early with its figures and the read-back.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { ManagedProcess, liveProcessesMentioning, runCommand } from "../e2e/harness.ts";

test("a warm-up, then two short steps against a fresh cluster: figures for every step and process, nothing lost", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-bench-test-"));
  try {
    const jsonFile = join(dir, "bench.json");
    const result = await runCommand(["src/bench/bench-main.ts", "--clients", "1,2", "--seconds", "1", "--warmup", "1", "--keys", "10", "--json", jsonFile], {
      timeoutMs: 30_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.code, 0, output);
    assert.match(result.stdout, /^warm-up: 1 client for 1 s, not measured\nwarm-up: [1-9]\d* ops, 0 errors$/m, output);
    assert.match(result.stdout, /^1 client, put: \d+ ops\/s/m, output);
    assert.match(result.stdout, /^2 clients, put: \d+ ops\/s/m, output);
    assert.match(result.stdout, /^verified: all \d+ keys hold their last acknowledged write; lost=0$/m, output);
    assert.doesNotMatch(result.stdout, /\r/, "no progress line when stdout is not a terminal");
    assert.match(result.stdout, /^bench: zraft, .*; election timeout 1000-2000 ms, heartbeat 100 ms$/m, "etcd's default timing, which --vs-etcd gives etcd too");

    const json = JSON.parse(readFileSync(jsonFile, "utf8"));
    assert.equal(json.system, "zraft");
    assert.deepEqual(json.options.clients, [1, 2]);
    assert.equal(json.options.warmupSeconds, 1);
    assert.deepEqual(json.options.timing, { heartbeatMs: 100, electionTimeoutMs: 1000 });
    assert.equal(json.verification.lost, 0);
    assert.ok(json.verification.checked > 0);
    assert.equal(json.steps.length, 2);
    for (const [index, step] of json.steps.entries()) {
      assert.equal(step.clients, [1, 2][index]);
      assert.ok(step.ops > 0 && step.opsPerSecond > 0, JSON.stringify(step));
      const { min, p50, p90, p99, max } = step.latencyMs;
      assert.ok(0 < min && min <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max, JSON.stringify(step.latencyMs));
      assert.deepEqual(step.errors, {});
      assert.equal(typeof step.hidden, "object", "what the client library did behind the answers");
      assert.deepEqual(step.processes.map((process: { name: string }) => process.name), ["forwarder-0", "server-1", "server-2", "server-3", "server-4", "server-5"]);
      for (const process of step.processes) {
        assert.ok(Number.isInteger(process.pid) && process.cpuSeconds >= 0 && process.peakRssBytes > 1_000_000, JSON.stringify(process));
      }
      assert.ok(step.processes.some((process: { cpuSeconds: number }) => process.cpuSeconds > 0), "the cluster used some CPU");
    }

    const clusterDir = /servers in (\/\S+zraft-cluster-\S+);/.exec(result.stdout)?.[1];
    assert.ok(clusterDir !== undefined, output);
    assert.deepEqual(liveProcessesMentioning(clusterDir), [], "no forwarder or server of the run is still alive");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a bad option exits 2 with one line and the usage; a bad --config file with one line", async () => {
  const result = await runCommand(["src/bench/bench-main.ts", "--vs-redis"], { timeoutMs: 15_000 });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr.split("\n")[0], "bench: unknown option --vs-redis");
  assert.match(result.stderr, /^usage: npm run bench/m);

  const missing = await runCommand(["src/bench/bench-main.ts", "--config", "/nonexistent/cluster.json"], { timeoutMs: 15_000 });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /^bench: config \/nonexistent\/cluster\.json: .*cannot be read/);
  assert.equal(missing.stderr.trimEnd().split("\n").length, 1, missing.stderr);
});

test("Ctrl-C ends the running step: it is reported, every acknowledged write read back, exit 130, nothing left running", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-bench-test-"));
  const bench = ManagedProcess.spawn("bench", ["src/bench/bench-main.ts", "--clients", "2,4", "--seconds", "300", "--warmup", "0", "--keys", "10"], {
    logFile: join(dir, "bench.log"),
    ownProcessGroup: true,
  });
  t.after(async () => {
    await bench.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  await bench.waitForOutput(/^step 1\/2: 2 clients for 300 s$/m, { timeoutMs: 60_000 });
  await sleep(1_500);
  // As a terminal delivers Ctrl-C, to the bench's whole process group (which must not hold its cluster), and as npm
  // relays it once more.
  process.kill(-bench.pid, "SIGINT");
  process.kill(bench.pid, "SIGINT");
  const exit = await bench.kill("SIGINT");
  const output = bench.output();
  assert.deepEqual(exit, { code: 130, signal: null }, output);
  assert.match(output, /Ctrl-C again quits at once/);
  assert.match(output, /^2 clients, put: \d+ ops\/s \(\d+ ops in \d+\.\d s\); errors: none$/m, output);
  assert.doesNotMatch(output, /step 2\/2/);
  assert.match(output, /^stopped early by Ctrl-C: 1 of 2 steps ran, the last for \d+\.\d of its 300 s$/m, output);
  assert.match(output, /^verified: all \d+ keys hold their last acknowledged write; lost=0$/m, output);
  const clusterDir = /servers in (\/\S+zraft-cluster-\S+);/.exec(output)?.[1];
  assert.ok(clusterDir !== undefined, output);
  assert.deepEqual(liveProcessesMentioning(clusterDir), [], "no forwarder or server of the run is still alive");
});
