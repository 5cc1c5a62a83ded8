/**
 * The failover tools' statistics (src/failover/statistics.ts) on inputs
 * whose answers are known by hand: nearest-rank quantiles, the summary
 * whatever the input order, and the empty case.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeSummary, formatMs, quantile, summarize } from "../../src/failover/statistics.ts";

test("quantiles by nearest rank", () => {
  const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(quantile(sorted, 0), 1);
  assert.equal(quantile(sorted, 0.5), 5);
  assert.equal(quantile(sorted, 0.9), 9);
  assert.equal(quantile(sorted, 0.91), 10);
  assert.equal(quantile(sorted, 1), 10);
  assert.equal(quantile([42], 0.9), 42);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test("the summary does not depend on the order of the values", () => {
  const values = [300, 150, 210, 180, 260, 170, 190, 240, 200, 220];
  assert.deepEqual(summarize(values), { count: 10, min: 150, median: 200, p90: 260, max: 300 });
  assert.deepEqual(summarize([...values].reverse()), summarize(values));
  assert.deepEqual(values[0], 300, "the input is not sorted in place");
  assert.deepEqual(summarize([7, 3, 5]), { count: 3, min: 3, median: 5, p90: 7, max: 7 });
  assert.equal(summarize([]), undefined);
});

test("durations for people", () => {
  assert.equal(formatMs(3.14159), "3.14 ms");
  assert.equal(formatMs(201.6), "202 ms");
  assert.equal(formatMs(Number.NaN), "n/a");
  assert.equal(describeSummary(summarize([100, 200, 300])), "min 100 ms, median 200 ms, p90 300 ms, max 300 ms (n=3)");
  assert.equal(describeSummary(undefined), "no values");
});
