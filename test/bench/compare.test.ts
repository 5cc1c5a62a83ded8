/**
 * The side-by-side of `--vs-etcd` (src/bench/bench-compare.ts): ratios of
 * one run's steps, the medians over several rounds that `--rounds`
 * compares, and the median of the rounds' own ratios.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatComparison, formatRatios, medianRatios, medianSteps, stepRatios, type ComparedStep } from "../../src/bench/bench-compare.ts";

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

test("the median of the rounds' own ratios pairs each round's figures, not figures from rounds far apart", () => {
  // Each round's ratio first (4/3, 1.1 and 15/14 for ops/s), then the median of those.
  const zraft = [[step(1, 400, 2, 8)], [step(1, 220, 4, 14)], [step(1, 300, 3, 11)]];
  const etcd = [[step(1, 300, 3, 10)], [step(1, 200, 5, 15)], [step(1, 280, 3.5, 12)]];
  const roundRatios = zraft.map((steps, round) => stepRatios(steps, etcd[round]!));
  assert.deepEqual(medianRatios(roundRatios), [{ clients: 1, opsPerSecond: 220 / 200, p50: 4 / 5, p99: 11 / 12 }]);
  // A step a round lacks, and a figure a round has no ratio for, are left out.
  assert.deepEqual(medianRatios([[...roundRatios[0]!, { clients: 8, opsPerSecond: 2, p50: 0.5, p99: 0.5 }], roundRatios[1]!]), [
    { clients: 1, opsPerSecond: (400 / 300 + 220 / 200) / 2, p50: (2 / 3 + 4 / 5) / 2, p99: (8 / 10 + 14 / 15) / 2 },
  ]);
  assert.deepEqual(medianRatios([[{ clients: 1, opsPerSecond: 1.5, p50: null, p99: null }], roundRatios[0]!]), [
    { clients: 1, opsPerSecond: (1.5 + 400 / 300) / 2, p50: null, p99: null },
  ]);
  const lines = formatRatios(medianRatios(roundRatios), "the median of the 3 rounds' own ratios");
  assert.equal(lines[0], "the median of the 3 rounds' own ratios (zraft/etcd):");
  assert.match(lines.at(-1)!, /^1\s+1\.10x\s+0\.80x\s+0\.92x$/);
});
