/**
 * The side-by-side of `--vs-etcd` (src/bench/bench-compare.ts): ratios of
 * one run's steps, and the medians over several rounds that `--rounds`
 * compares.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatComparison, medianSteps, stepRatios, type ComparedStep } from "../../src/bench/bench-compare.ts";

const step = (clients: number, opsPerSecond: number, p50: number, p99: number): ComparedStep => ({ clients, opsPerSecond, latencyMs: { p50, p99 } });

test("the ratio of each step that both ran, zraft over etcd", () => {
  const ratios = stepRatios([step(1, 300, 3, 9), step(8, 900, 8, 30)], [step(1, 200, 4, 12)]);
  assert.deepEqual(ratios, [{ clients: 1, opsPerSecond: 1.5, p50: 0.75, p99: 0.75 }]);
});

test("medians over rounds: each figure on its own, the middle of an odd count and the mean of the two middles of an even one", () => {
  const rounds = [
    [step(1, 300, 3, 9), step(8, 900, 8, 30)],
    [step(1, 100, 5, 20), step(8, 700, 9, 25)],
    [step(1, 200, 4, 10), step(8, 800, 7, 40)],
  ];
  assert.deepEqual(medianSteps(rounds), [step(1, 200, 4, 10), step(8, 800, 8, 30)]);
  assert.deepEqual(medianSteps(rounds.slice(0, 2)), [step(1, 200, 4, 14.5), step(8, 800, 8.5, 27.5)]);
  // A step that a round stopped by Ctrl-C never ran has no median.
  assert.deepEqual(medianSteps([rounds[0]!, [step(1, 100, 5, 20)]]), [step(1, 200, 4, 14.5)]);
  // Latency of steps with no successful operation is left out of the medians.
  assert.deepEqual(medianSteps([[{ clients: 1, opsPerSecond: 0, latencyMs: null }], [step(1, 100, 5, 20)]]), [step(1, 50, 5, 20)]);
});

test("the table names what it compares", () => {
  const lines = formatComparison([step(1, 300, 3, 9)], [step(1, 200, 4, 12)], "medians over 3 rounds, zraft vs etcd");
  assert.match(lines[0]!, /^medians over 3 rounds, zraft vs etcd \(ratio = zraft\/etcd/);
  assert.match(lines.at(-1)!, /^1\s+300\s+200\s+1\.50x\s+3\.00 ms\s+4\.00 ms\s+0\.75x\s+9\.00 ms\s+12 ms\s+0\.75x$/);
});
