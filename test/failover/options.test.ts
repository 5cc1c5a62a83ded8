/**
 * The command lines of demo:failover and bench:election
 * (src/failover/*-options.ts, timeout-ranges.ts): defaults, timeout
 * ranges and their heartbeat, and the mistakes refused with a usage error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/args.ts";
import { parseElectionBenchOptions } from "../../src/failover/bench-options.ts";
import { parseFailoverOptions } from "../../src/failover/failover-options.ts";
import { heartbeatFor, parseTimeoutRange, parseTimeoutRanges } from "../../src/failover/timeout-ranges.ts";

test("timeout ranges and the heartbeat below them", () => {
  assert.deepEqual(parseTimeoutRange("150-300"), [150, 300]);
  assert.deepEqual(parseTimeoutRanges("150-300,50-100, 150-150"), [[150, 300], [50, 100], [150, 150]]);
  assert.equal(heartbeatFor([150, 300]), 50);
  assert.equal(heartbeatFor([50, 100]), 16);
  assert.equal(heartbeatFor([12, 24]), 4);
  for (const bad of ["300-150", "150", "a-b", "5-10", "150-300,"]) assert.throws(() => parseTimeoutRanges(bad), UsageError, bad);
});

test("demo:failover options", () => {
  assert.deepEqual(parseFailoverOptions([], () => 7), {
    rounds: 5,
    mode: "kill",
    jsonFile: undefined,
    configPath: undefined,
    keyFile: undefined,
    timeout: undefined,
    heartbeatMs: undefined,
    writers: 4,
    seed: 7,
  });
  const options = parseFailoverOptions(["--rounds", "20", "--mode", "pause", "--json", "out.json", "--timeout", "50-100", "--seed", "3"]);
  assert.ok(options !== "help");
  assert.equal(options.rounds, 20);
  assert.equal(options.mode, "pause");
  assert.deepEqual(options.timeout, [50, 100]);
  assert.equal(options.seed, 3);
  assert.equal(parseFailoverOptions(["--help"]), "help");
  assert.throws(() => parseFailoverOptions(["--mode", "crash"]), /--mode must be one of kill, pause, step-down, transfer, forwarder/);
  const forwarder = parseFailoverOptions(["--mode", "forwarder"]);
  assert.ok(forwarder !== "help" && forwarder.mode === "forwarder");
  assert.throws(() => parseFailoverOptions(["--mode", "forwarder", "--config", "c.json"]), /needs the cluster the demo starts/);
  assert.throws(() => parseFailoverOptions(["--rounds", "0"]), UsageError);
  assert.throws(() => parseFailoverOptions(["--config", "c.json", "--timeout", "150-300"]), /an attached cluster/);
  assert.throws(() => parseFailoverOptions(["--key", "k.json"]), /--key goes with --config/);
  const fast = parseFailoverOptions(["--timeout", "50-100", "--heartbeat", "10"]);
  assert.ok(fast !== "help" && fast.heartbeatMs === 10);
  assert.throws(() => parseFailoverOptions(["--heartbeat", "10"]), /--heartbeat goes with --timeout/);
});

test("bench:election options", () => {
  assert.deepEqual(parseElectionBenchOptions([], () => 9), { ranges: [[150, 300]], rounds: 100, svgFile: "election-cdf.svg", jsonFile: undefined, seed: 9 });
  const options = parseElectionBenchOptions(["--timeout", "150-300,50-100", "--rounds", "30", "--svg", "x.svg"]);
  assert.ok(options !== "help");
  assert.deepEqual(options.ranges, [[150, 300], [50, 100]]);
  assert.equal(options.rounds, 30);
  assert.equal(options.svgFile, "x.svg");
  assert.throws(() => parseElectionBenchOptions(["--rounds", "0"]), UsageError);
  assert.throws(() => parseElectionBenchOptions(["extra"]), UsageError);
});
