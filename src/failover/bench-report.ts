/**
 * What `bench:election` prints for each timeout range: its samples, the
 * min / median / p90 / max of the time without a leader, and the
 * cumulative distribution as a curve of characters (Figure 16 of the Raft
 * paper's extended version, §9.3, in a terminal). Pure: returns lines.
 */
import { describeSummary, summarize } from "./statistics.ts";
import { cdfPlotLines } from "./text-plots.ts";
import { describeRange, type TimeoutRange } from "./timeout-ranges.ts";

/** The samples, ten to a line. */
export function sampleLines(values: readonly number[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 10) {
    const chunk = values.slice(i, i + 10).map((value) => String(Math.round(value)).padStart(5));
    lines.push(`  rounds ${`${i + 1}-${Math.min(values.length, i + 10)}`.padEnd(8)}${chunk.join("")}`);
  }
  return lines;
}

export function rangeReportLines(range: TimeoutRange, values: readonly number[], plot: { readonly width?: number; readonly height?: number; readonly maxMs?: number } = {}): string[] {
  return [
    `election timeout ${describeRange(range)}: time without leader over ${values.length} kills: ${describeSummary(summarize(values))}`,
    `cumulative percent of rounds with a leader again, by ms after the kill (${describeRange(range)}):`,
    ...cdfPlotLines(values, { width: plot.width ?? 60, height: plot.height ?? 15, ...(plot.maxMs === undefined ? {} : { maxMs: plot.maxMs }) }),
  ];
}
