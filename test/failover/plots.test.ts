/**
 * The cumulative distribution and the terminal plots
 * (src/failover/cdf.ts, text-plots.ts): the CDF's corners on known
 * values, round axis ends, a histogram whose counts add up, and an ASCII
 * curve of the asked size that climbs from 0 % to 100 % and never falls.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cdfPoints, niceCeiling, percentAtOrBelow } from "../../src/failover/cdf.ts";
import { cdfPlotLines, histogramLines } from "../../src/failover/text-plots.ts";

test("the CDF has one corner per distinct value, ending at 100 %", () => {
  assert.deepEqual(cdfPoints([30, 10, 20, 20]), [
    { x: 10, percent: 25 },
    { x: 20, percent: 75 },
    { x: 30, percent: 100 },
  ]);
  assert.deepEqual(cdfPoints([]), []);
  assert.equal(percentAtOrBelow([10, 20, 30, 40], 25), 50);
  assert.equal(percentAtOrBelow([10, 20, 30, 40], 9), 0);
  assert.equal(percentAtOrBelow([], 9), 0);
});

test("axis ends are 1, 2 or 5 times a power of ten", () => {
  assert.equal(niceCeiling(257), 500);
  assert.equal(niceCeiling(180), 200);
  assert.equal(niceCeiling(1000), 1000);
  assert.equal(niceCeiling(1001), 2000);
  assert.equal(niceCeiling(0), 1);
});

test("the histogram has one line per bin and counts every value once", () => {
  const values = [150, 151, 160, 190, 199, 200, 240, 249, 250, 300];
  const lines = histogramLines(values, { bins: 5, width: 20 });
  assert.equal(lines.length, 5);
  const counts = lines.map((line) => Number(/ (\d+)$/.exec(line)?.[1] ?? 0));
  assert.equal(counts.reduce((a, b) => a + b, 0), values.length);
  assert.match(lines[0] as string, /^ +150–181 ms │█+ 3$/);
  assert.ok(lines.some((line) => line.includes("█".repeat(20))), "the largest bin gets the full width");
  assert.deepEqual(histogramLines([]), []);
  assert.equal(histogramLines([5, 5, 5]).length, 1);
});

test("the ASCII CDF has the asked size and a curve that never falls", () => {
  const values = Array.from({ length: 20 }, (_, i) => 150 + i * 10);
  const lines = cdfPlotLines(values, { width: 60, height: 15, maxMs: 500 });
  assert.equal(lines.length, 15 + 2, "15 rows, the axis and its labels");
  const rows = lines.slice(0, 15).map((line) => line.slice(line.indexOf("│") + 1));
  for (const row of rows) assert.equal(row.length, 60);
  assert.match(lines[0] as string, /^ 100% │/);
  assert.match(lines[14] as string, /^ {3}0% │/);
  assert.match(lines[16] as string, /0 .*250 .*500 ms$/);
  // The row of the "*" in each column, from the bottom: it never goes down, starts at 0 % and ends at 100 %.
  const heights = Array.from({ length: 60 }, (_, column) => 14 - rows.findIndex((row) => row[column] === "*"));
  assert.equal(heights[0], 0);
  assert.equal(heights[59], 14);
  for (let i = 1; i < heights.length; i++) assert.ok((heights[i] as number) >= (heights[i - 1] as number), `column ${i}`);
  // Half the values are at most 240 ms: the curve passes 50 % near x = 240 (column 28 of 60 over 500 ms).
  assert.ok((heights[28] as number) >= 7 && (heights[28] as number) <= 8);
});
