/**
 * The latency histogram of src/bench/histogram.ts: its percentiles are
 * those of the sorted samples (nearest rank) within a bucket's width (1%),
 * min and max are exact, and its memory does not grow with the samples.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LatencyHistogram } from "../../src/bench/histogram.ts";
import { quantile } from "../../src/failover/statistics.ts";

/** Within 1% (one bucket) of `expected`. */
function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.0101, `${what}: ${actual} is not within 1% of ${expected}`);
}

test("percentiles of 1..1000 ms", () => {
  const histogram = new LatencyHistogram();
  for (let value = 1000; value >= 1; value--) histogram.record(value);
  const summary = histogram.summary();
  assert.ok(summary !== undefined);
  assert.equal(histogram.count, 1000);
  assert.equal(summary.min, 1);
  assert.equal(summary.max, 1000);
  assertClose(summary.p50, 500, "p50");
  assertClose(summary.p90, 900, "p90");
  assertClose(summary.p99, 990, "p99");
});

test("percentiles of a skewed random sample match the sorted samples' within 1%", () => {
  const histogram = new LatencyHistogram();
  const samples: number[] = [];
  let seed = 42;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 20_000; i++) {
    // Mostly around a millisecond, with a long tail to seconds.
    const value = 0.05 + -Math.log(1 - random()) * (random() < 0.95 ? 1 : 200);
    samples.push(value);
    histogram.record(value);
  }
  samples.sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99, 0.999]) assertClose(histogram.quantile(q), quantile(samples, q), `q=${q}`);
  assert.equal(histogram.quantile(0), samples[0]);
  assert.equal(histogram.quantile(1), samples.at(-1));
});

test("one sample, equal samples, sub-microsecond samples, and none", () => {
  const empty = new LatencyHistogram();
  assert.equal(empty.summary(), undefined);
  assert.ok(Number.isNaN(empty.quantile(0.5)));

  const one = new LatencyHistogram();
  one.record(3.7);
  assert.deepEqual(one.summary(), { min: 3.7, p50: 3.7, p90: 3.7, p99: 3.7, max: 3.7 });

  const tiny = new LatencyHistogram();
  for (const value of [0.0001, 0.0002, 0.0003]) tiny.record(value);
  // All three share the first bucket (up to a microsecond): its bound is kept within the range seen.
  assert.equal(tiny.quantile(0.5), 0.0003);
  assert.equal(tiny.summary()?.min, 0.0001);
});
