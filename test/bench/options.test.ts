/**
 * The command line of `npm run bench` (src/bench/bench-options.ts):
 * defaults, every option (--vs-etcd and --warmup among them), and the mistakes refused
 * with a usage error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/args.ts";
import { benchUsage, parseBenchOptions, timingMismatch } from "../../src/bench/bench-options.ts";

test("defaults", () => {
  assert.deepEqual(parseBenchOptions([]), {
    clients: [1, 8, 32, 128],
    seconds: 10,
    mix: "put",
    keys: 1000,
    valueSize: 100,
    stale: false,
    configPath: undefined,
    jsonFile: undefined,
    vsEtcd: false,
    rounds: 1,
    warmupSeconds: 10,
    timing: { heartbeatMs: 100, electionTimeoutMs: 1000 },
  });
  assert.equal(parseBenchOptions(["--help"]), "help");
  assert.equal(parseBenchOptions(["-h"]), "help");
});

test("every option", () => {
  const argv = ["--clients", "2,4", "--seconds=3", "--mix", "cas", "--keys", "50", "--value-size", "256", "--stale", "--config", "c.json", "--json", "out.json", "--vs-etcd", "--rounds", "3", "--warmup", "0", "--heartbeat", "20", "--election-timeout", "150"];
  assert.deepEqual(parseBenchOptions(argv), {
    clients: [2, 4],
    seconds: 3,
    mix: "cas",
    keys: 50,
    valueSize: 256,
    stale: true,
    configPath: "c.json",
    jsonFile: "out.json",
    vsEtcd: true,
    rounds: 3,
    warmupSeconds: 0,
    timing: { heartbeatMs: 20, electionTimeoutMs: 150 },
  });
  for (const mix of ["put", "get", "mixed", "cas"]) assert.equal((parseBenchOptions(["--mix", mix]) as { mix: string }).mix, mix);
});

test("--vs-etcd", () => {
  assert.equal((parseBenchOptions(["--vs-etcd"]) as { vsEtcd: boolean }).vsEtcd, true);
  assert.equal((parseBenchOptions(["--stale", "--mix", "get", "--vs-etcd", "--clients", "1,8"]) as { vsEtcd: boolean }).vsEtcd, true);
  assert.match(benchUsage, /--vs-etcd .*etcd-server/s);
});

test("both systems get the same Raft timing, and none that etcd would refuse", () => {
  // etcd's defaults: etcd runs as it ships. etcd refuses 50 ms heartbeats with zraft's example 150 ms election timeout.
  assert.deepEqual((parseBenchOptions(["--heartbeat", "50", "--election-timeout", "250"]) as { timing: object }).timing, { heartbeatMs: 50, electionTimeoutMs: 250 });
  assert.throws(() => parseBenchOptions(["--heartbeat", "50", "--election-timeout", "150"]), /--election-timeout \(150 ms\) must be at least 5 times --heartbeat \(50 ms\): etcd refuses less/);
});

test("mistakes are usage errors", () => {
  const bad = [
    ["--clients", "1,,8"],
    ["--clients", "0"],
    ["--clients", "a"],
    ["--clients", "20000"],
    ["--seconds", "0"],
    ["--seconds", "-1"],
    ["--mix", "delete"],
    ["--keys", "0"],
    ["--keys", "10", "--clients", "1,32"],
    ["--value-size", "1"],
    ["--json"],
    ["--stale=yes"],
    ["--vs-etcd=yes"],
    ["--vs-etcd", "--vs-etcd"],
    ["--clients", "1", "--clients", "2"],
    ["--rounds", "0"],
    ["--rounds", "21"],
    ["--rounds", "two"],
    ["--warmup", "-1"],
    ["--warmup", "3601"],
    ["--warmup", "soon"],
    ["--heartbeat", "0"],
    ["--heartbeat", "10001"],
    ["--election-timeout", "499"],
    ["--heartbeat", "50", "--election-timeout", "249"],
    ["--heartbeat", "50", "--election-timeout", "50001"],
    ["extra"],
  ];
  for (const argv of bad) assert.throws(() => parseBenchOptions(argv), UsageError, argv.join(" "));
});

test("the usage names every option with its default", () => {
  for (const option of ["--clients", "--seconds", "--mix", "--keys", "--value-size", "--stale", "--config", "--json", "--vs-etcd", "--rounds", "--warmup", "--heartbeat", "--election-timeout"]) {
    assert.ok(benchUsage.includes(`  ${option} `), `${option} is described`);
  }
  for (const fallback of ["default 1,8,32,128", "default 10", "default put", "default 1000", "default 100", "default linearizable", "default: none", "default 1)", "default 10; 0: none", "(default 100)", "default 1000: etcd's"]) {
    assert.ok(benchUsage.includes(fallback), fallback);
  }
});

test("an attached cluster whose timing is not etcd's is named, since the comparison is then of unequal configurations", () => {
  const timing = { heartbeatMs: 100, electionTimeoutMs: 1000 };
  assert.equal(timingMismatch({ heartbeatMs: 100, electionTimeoutMs: [1000, 2000] }, timing), undefined);
  assert.equal(
    timingMismatch({ heartbeatMs: 50, electionTimeoutMs: [150, 300] }, timing),
    "--vs-etcd: the attached cluster runs with heartbeat 50 ms and election timeout 150-300 ms, etcd with 100 ms and 1000-2000 ms: " +
      "the two are not compared at the same timing (--heartbeat and --election-timeout set etcd's)",
  );
  assert.notEqual(timingMismatch({ heartbeatMs: 100, electionTimeoutMs: [1000, 1500] }, timing), undefined);
});
