/**
 * `npm run bench -- --vs-etcd --rounds 2` as a user runs it, briefly: one
 * one-second step against zraft, then against a local five-member etcd,
 * then again with etcd first. It must exit 0, print every run, each
 * round's side-by-side table, the medians', the median of the rounds' own
 * ratios and every read-back, write both systems' figures, each round's
 * and the ratios as JSON, and leave no etcd member or folder behind.
 * Skipped, saying why, where `etcd` is not on PATH.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { findEtcdBinary } from "../../src/bench/etcd-cluster.ts";
import { liveProcessesMentioning, runCommand } from "../e2e/harness.ts";

test("--vs-etcd --rounds 2: the same step against zraft and etcd in both orders with the same Raft timing, all verified, the ratios and medians, nothing left running", async (t) => {
  if (findEtcdBinary() === undefined) {
    t.skip("etcd not on PATH: install it (Debian: apt-get install etcd-server) or put `etcd` on PATH to run this test");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "zraft-bench-etcd-test-"));
  try {
    const jsonFile = join(dir, "bench.json");
    const result = await runCommand(
      ["src/bench/bench-main.ts", "--vs-etcd", "--rounds", "2", "--clients", "1", "--seconds", "1", "--warmup", "1", "--keys", "10", "--heartbeat", "50", "--election-timeout", "250", "--json", jsonFile],
      { timeoutMs: 180_000 },
    );
    const output = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.code, 0, output);
    assert.match(result.stdout, /^bench: etcd, etcd \S+: five members .*fsync on.*; election timeout 250-500 ms, heartbeat 50 ms; client etcd3/m, output);
    assert.match(result.stdout, /^bench: zraft, .*; election timeout 250-500 ms, heartbeat 50 ms$/m, "the same timing for both");
    // zraft first in round 1, etcd first in round 2.
    const systems = [...result.stdout.matchAll(/^(round \d of 2|bench: (?:zraft|etcd))\b/gm)].map((match) => match[1]);
    assert.deepEqual(systems, ["round 1 of 2", "bench: zraft", "bench: etcd", "round 2 of 2", "bench: etcd", "bench: zraft"], output);
    assert.equal([...result.stdout.matchAll(/^1 client, put: \d+ ops\/s/gm)].length, 4, output);
    assert.equal([...result.stdout.matchAll(/^warm-up: [1-9]\d* ops, 0 errors$/gm)].length, 4, "each system warmed up in each round");
    assert.equal([...result.stdout.matchAll(/^verified: all \d+ keys hold their last acknowledged write; lost=0$/gm)].length, 4, output);
    assert.equal([...result.stdout.matchAll(/^clients\s+zraft ops\/s\s+etcd ops\/s\s+ratio/gm)].length, 3, output);
    assert.match(result.stdout, /^medians over 2 rounds, zraft vs etcd \(ratio = zraft\/etcd/m, output);
    assert.match(result.stdout, /^the median of the 2 rounds' own ratios \(zraft\/etcd\):\nclients\s+ops\/s ratio\s+p50 ratio\s+p99 ratio\n1\s+\d+\.\d\dx/m, output);
    assert.match(result.stdout, /^1\s+\d+\s+\d+\s+\d+\.\d\dx/m, output);

    const json = JSON.parse(readFileSync(jsonFile, "utf8"));
    assert.equal(json.system, "zraft");
    assert.equal(json.options.vsEtcd, true);
    assert.equal(json.etcd.system, "etcd");
    assert.equal(json.etcd.verification.lost, 0);
    assert.ok(json.etcd.verification.checked > 0);
    const [step] = json.etcd.steps;
    assert.ok(step.ops > 0, JSON.stringify(step));
    assert.deepEqual(step.errors, {});
    assert.deepEqual(step.processes.map((process: { name: string }) => process.name), ["etcd-1", "etcd-2", "etcd-3", "etcd-4", "etcd-5"]);
    for (const process of step.processes) assert.ok(process.cpuSeconds >= 0 && process.peakRssBytes > 1_000_000, JSON.stringify(process));
    assert.equal(json.ratio.length, 1);
    assert.equal(json.ratio[0].clients, 1);
    for (const figure of ["opsPerSecond", "p50", "p99"]) assert.ok(json.ratio[0][figure] > 0, JSON.stringify(json.ratio));
    assert.equal(json.rounds.length, 2);
    for (const round of json.rounds) {
      assert.equal(round.zraft.verification.lost, 0);
      assert.equal(round.etcd.verification.lost, 0);
      assert.equal(round.ratio[0].clients, 1);
    }
    assert.deepEqual(json.rounds[0].zraft.steps, json.steps, "round 1 is what a single run writes");
    assert.equal(json.medians.zraft[0].clients, 1);
    assert.ok(json.medians.ratio[0].opsPerSecond > 0, JSON.stringify(json.medians));
    const roundRatios = json.rounds.map((round: { ratio: { opsPerSecond: number }[] }) => round.ratio[0]!.opsPerSecond);
    assert.equal(json.medians.roundRatio[0].opsPerSecond, (roundRatios[0] + roundRatios[1]) / 2, "the median of the rounds' own ratios");

    const etcdDirs = [...result.stdout.matchAll(/five members \(\S+, fsync on, loopback\) in (\/\S+zraft-bench-etcd-\S+);/g)].map((match) => match[1]!);
    assert.equal(etcdDirs.length, 2, output);
    for (const etcdDir of etcdDirs) {
      assert.deepEqual(liveProcessesMentioning(etcdDir), [], "no etcd member of the run is still alive");
      assert.equal(existsSync(etcdDir), false, "the etcd data folder is removed");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
