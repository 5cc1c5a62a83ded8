/**
 * Election timeout ranges on the command line: `150-300`, or several as
 * `150-300,50-100`. The Raft paper (§9.3, Figure 16 of the extended version)
 * measures how the width and the scale of this range set how long a
 * cluster goes without a leader after a crash.
 */
import { UsageError } from "../cli/args.ts";

export type TimeoutRange = readonly [low: number, high: number];

/** The smallest low end accepted: the heartbeat (a third of it) must stay at least 1 ms. */
const smallestLowMs = 10;

/** Parses `LOW-HIGH` (whole ms, LOW ≤ HIGH). Throws UsageError naming `option`. */
export function parseTimeoutRange(text: string, option = "--timeout"): TimeoutRange {
  const match = /^\s*(\d{1,6})\s*-\s*(\d{1,6})\s*$/.exec(text);
  if (match === null) throw new UsageError(`${option}: "${text}" is not a range LOW-HIGH in ms, such as 150-300`);
  const low = Number(match[1]);
  const high = Number(match[2]);
  if (low < smallestLowMs) throw new UsageError(`${option}: the low end must be at least ${smallestLowMs} ms, got ${low}`);
  if (high < low) throw new UsageError(`${option}: the high end ${high} is below the low end ${low}`);
  return [low, high];
}

/** Parses a comma-separated list of ranges, e.g. `150-300,50-100`. */
export function parseTimeoutRanges(text: string, option = "--timeout"): TimeoutRange[] {
  return text.split(",").map((item) => parseTimeoutRange(item, option));
}

/**
 * The heartbeat interval for a range: well below its low end, so that a
 * live leader's followers never time out (Raft paper §5.6: broadcast time ≪
 * election timeout), and no more than the local cluster's default of 50 ms.
 */
export function heartbeatFor(range: TimeoutRange): number {
  return Math.min(50, Math.floor(range[0] / 3));
}

/** "150-300 ms". */
export function describeRange(range: TimeoutRange): string {
  return `${range[0]}-${range[1]} ms`;
}
