/**
 * Plots for a terminal, in plain characters: a histogram of durations (one
 * bar per bin) and a cumulative distribution curve like Figure 16 of the
 * Raft paper's extended version (§9.3). Pure: each returns lines of text.
 */
import { niceCeiling, percentAtOrBelow } from "./cdf.ts";

export interface HistogramOptions {
  /** Number of bins (default 10). */
  readonly bins?: number;
  /** Width of the longest bar, in characters (default 40). */
  readonly width?: number;
}

/**
 * One line per bin of equal width from the smallest value to the largest:
 * `  150–180 ms │████████ 4`. No lines for no values.
 */
export function histogramLines(values: readonly number[], options: HistogramOptions = {}): string[] {
  if (values.length === 0) return [];
  const width = options.width ?? 40;
  const low = Math.floor(Math.min(...values));
  const high = Math.ceil(Math.max(...values));
  const bins = high === low ? 1 : Math.max(1, options.bins ?? 10);
  const binWidth = Math.max(1, Math.ceil((high - low + 1) / bins));
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    const bin = Math.min(bins - 1, Math.floor((value - low) / binWidth));
    counts[bin] = (counts[bin] as number) + 1;
  }
  const most = Math.max(...counts);
  const labels = counts.map((_, i) => `${low + i * binWidth}–${low + (i + 1) * binWidth} ms`);
  const labelWidth = Math.max(...labels.map((label) => label.length));
  return counts.map((count, i) => {
    const bar = "█".repeat(Math.round((count / most) * width));
    return `  ${(labels[i] as string).padStart(labelWidth)} │${bar}${count > 0 ? ` ${count}` : ""}`;
  });
}

export interface CdfPlotOptions {
  /** Columns of the plot area (default 60). */
  readonly width?: number;
  /** Rows of the plot area (default 15). */
  readonly height?: number;
  /** The right end of the x axis, in ms (default: a round number at or above the largest value). */
  readonly maxMs?: number;
}

/**
 * The cumulative distribution of `values` (ms) as a curve of `*`: x is the
 * time from 0 to `maxMs`, y the percentage of values at or below it, 0 at
 * the bottom and 100 at the top, with labelled axes.
 */
export function cdfPlotLines(values: readonly number[], options: CdfPlotOptions = {}): string[] {
  const width = options.width ?? 60;
  const height = options.height ?? 15;
  const maxMs = options.maxMs ?? niceCeiling(values.length === 0 ? 1 : Math.max(...values));
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(" "));
  let previousRow = 0;
  for (let column = 0; column < width; column++) {
    // The right edge of each column's span of time, so the last column shows 100 %.
    const x = ((column + 1) / width) * maxMs;
    const row = Math.min(height - 1, Math.round((percentAtOrBelow(values, x) / 100) * (height - 1)));
    // A rise within one column is drawn as a vertical stroke, so the steps read as one curve.
    for (let r = previousRow + 1; r < row; r++) (grid[height - 1 - r] as string[])[column] = "|";
    (grid[height - 1 - row] as string[])[column] = "*";
    previousRow = row;
  }
  const lines = grid.map((cells, i) => {
    const rowPercent = Math.round(((height - 1 - i) / (height - 1)) * 100);
    const label = i === 0 || i === height - 1 || i === Math.floor((height - 1) / 2) ? `${rowPercent}%` : "";
    return `${label.padStart(5)} │${cells.join("")}`;
  });
  lines.push(`      └${"─".repeat(width)}`);
  const middle = `${Math.round(maxMs / 2)}`;
  const end = `${Math.round(maxMs)} ms`;
  const axis = new Array<string>(width + 1).fill(" ");
  const place = (text: string, at: number): void => [...text].forEach((char, i) => void (axis[at + i] = char));
  place("0", 0);
  place(middle, Math.max(2, Math.floor(width / 2) - Math.floor(middle.length / 2)));
  place(end, Math.max(0, width + 1 - end.length));
  lines.push(`       ${axis.join("").trimEnd()}`);
  return lines;
}
