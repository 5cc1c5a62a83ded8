/**
 * `npm run demo:failover` as a user runs it (src/failover/demo-main.ts):
 * two rounds of kill -9 of the leader on a cluster with a 150-300 ms
 * election timeout. It must exit 0 with each round's timeline and the
 * summary line saying nothing was lost, and leave no process behind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { liveProcessesMentioning, runCommand } from "../e2e/harness.ts";

const summaryPattern =
  /^rounds=(?<rounds>\d+) mode=kill failed=(?<failed>\d+) acknowledged=(?<acknowledged>\d+) lost=(?<lost>\d+) election_median_ms=(?<election>-?\d+) unavailable_median_ms=(?<unavailable>-?\d+)$/;

test("two rounds of kill -9 of the leader: a timeline per round, nothing lost, exit 0", async () => {
  const result = await runCommand(["src/failover/demo-main.ts", "--rounds", "2", "--mode", "kill", "--timeout", "150-300", "--seed", "1"], { timeoutMs: 40_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.code, 0, output);
  const lines = result.stdout.trimEnd().split("\n");
  const summary = summaryPattern.exec(lines.at(-1) ?? "")?.groups;
  assert.ok(summary !== undefined, `the last line is the summary:\n${output}`);
  assert.equal(summary.rounds, "2", output);
  assert.equal(summary.failed, "0", output);
  assert.equal(summary.lost, "0", output);
  assert.ok(Number(summary.acknowledged) > 0, output);
  // No election ends before the shortest timeout (150 ms) has run out on some follower (Raft paper §5.2), a timer
  // that started at the last heartbeat, at most one heartbeat interval (50 ms) before the kill.
  // Nor can a write be acknowledged again before then. (Not "after the new leader": the demo sees the leader by
  // polling status every 5 ms, and a loaded machine has seen a write acknowledged 1 ms before the poll named it.)
  assert.ok(Number(summary.election) >= 100, output);
  assert.ok(Number(summary.unavailable) >= 100, output);
  for (const round of [1, 2]) assert.ok(lines.some((line) => line.startsWith(`round ${round}: kill -9 server `)), output);
  assert.equal(lines.filter((line) => /new leader: server \d, term \d+/.test(line)).length, 2, output);
  assert.equal(lines.filter((line) => line.includes("first write acknowledged again")).length, 2, output);
  assert.ok(lines.includes("unavailability histogram:"), output);

  const clusterDir = /servers in (\/\S+zraft-cluster-\S+);/.exec(result.stdout)?.[1];
  assert.ok(clusterDir !== undefined, output);
  assert.deepEqual(liveProcessesMentioning(clusterDir), [], "no forwarder or server of the run is still alive");
});

test("a round of the forwarder mode: one of two forwarders killed, no election, nothing lost, exit 0", async () => {
  const result = await runCommand(["src/failover/demo-main.ts", "--rounds", "1", "--mode", "forwarder", "--seed", "1"], { timeoutMs: 40_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.code, 0, output);
  assert.match(result.stdout, /2 forwarders and 5 servers in/);
  assert.match(result.stdout, /round 1: kill -9 forwarder [01] of 2/);
  assert.match(result.stdout, /no server campaigned: no election/);
  assert.match(result.stdout, /restarted forwarder [01]; every server subscribed through it again/);
  assert.match(result.stdout.trimEnd().split("\n").at(-1) ?? "", /^rounds=1 mode=forwarder failed=0 acknowledged=[1-9]\d* lost=0 election_median_ms=-1 unavailable_median_ms=\d+$/);
});
