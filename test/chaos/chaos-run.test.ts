/**
 * The chaos run as a user runs it (src/chaos/main.ts): 20 seconds of ten
 * clients against a real 5-server cluster while the nemesis injects every
 * fault kind, then heal, read back, check. It must exit 0 with a summary
 * line saying the history is linearizable and nothing was lost or
 * duplicated, after at least one fault of each kind, and leave no process
 * behind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { liveProcessesMentioning, runCommand } from "../e2e/harness.ts";

const summaryPattern =
  /^ops=(?<ops>\d+) ok=(?<ok>\d+) unknown=(?<unknown>\d+) faults=(?<faults>\d+) linearizable=(?<linearizable>yes|no|unknown) lost=(?<lost>\d+) duplicated=(?<duplicated>\d+) checker_ms=(?<checkerMs>\d+)$/m;

test("a 20 s chaos run with every fault kind is linearizable, loses nothing and duplicates nothing", async () => {
  const result = await runCommand(
    ["src/chaos/main.ts", "--seconds", "20", "--faults", "kill,pause,partition,majority,restart-all,forwarder", "--seed", "1"],
    // Generous: the run is about 25 s alone, slower beside another test file on two cores.
    { timeoutMs: 110_000 },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.code, 0, output);
  const lines = result.stdout.trimEnd().split("\n");
  const summary = summaryPattern.exec(lines.at(-1) ?? "")?.groups;
  assert.ok(summary !== undefined, `the last line is the summary:\n${output}`);
  assert.ok(Number(summary.ops) > 0, output);
  assert.ok(Number(summary.ok) > 0, output);
  assert.ok(Number(summary.faults) >= 6, output);
  assert.equal(summary.linearizable, "yes", output);
  assert.equal(summary.lost, "0", output);
  assert.equal(summary.duplicated, "0", output);
  for (const kind of ["kill -9 server", "pause server", "isolate server", "partition", "kill -9 every server", "kill -9 the forwarder"]) {
    assert.ok(lines.some((line) => line.includes(kind)), `a "${kind}" fault in:\n${output}`);
  }
  // At most one line per fault before the summary: the run is readable.
  assert.ok(lines.filter((line) => / fault \d+: /.test(line)).length === Number(summary.faults), output);

  // Nothing left running: every process the run started is gone.
  const clusterDir = /in (\/\S+zraft-cluster-\S+);/.exec(result.stdout)?.[1];
  assert.ok(clusterDir !== undefined, output);
  assert.deepEqual(liveProcessesMentioning(clusterDir), [], "no forwarder or server of the run is still alive");
});

test("with two forwarders (every message arriving twice), partitions on both and one of them killed: linearizable, nothing lost", async () => {
  const result = await runCommand(
    ["src/chaos/main.ts", "--seconds", "15", "--forwarders", "2", "--faults", "partition,forwarder,majority,kill", "--seed", "2"],
    { timeoutMs: 110_000 },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.code, 0, output);
  assert.match(result.stdout, /^chaos: 2 forwarders and 5 servers in /m);
  const summary = summaryPattern.exec(result.stdout.trimEnd().split("\n").at(-1) ?? "")?.groups;
  assert.ok(summary !== undefined, `the last line is the summary:\n${output}`);
  assert.equal(summary.linearizable, "yes", output);
  assert.equal(summary.lost, "0", output);
  assert.equal(summary.duplicated, "0", output);
  assert.match(result.stdout, /kill -9 forwarder [01] of 2/);
  assert.match(result.stdout, /isolate server \d/);
  const clusterDir = /in (\/\S+zraft-cluster-\S+);/.exec(result.stdout)?.[1];
  assert.ok(clusterDir !== undefined, output);
  assert.deepEqual(liveProcessesMentioning(clusterDir), [], "no forwarder or server of the run is still alive");
});
