/**
 * The empirical cumulative distribution of a set of durations, the curve of
 * Figure 16 of the Raft paper's extended version (§9.3): for each x, the
 * percentage of rounds whose time without a leader was at most x. Pure.
 */

/** One step of the curve: `percent` of the values are at most `x`. */
export interface CdfPoint {
  readonly x: number;
  readonly percent: number;
}

/**
 * The corners of the step curve, one per distinct value in ascending order:
 * at each, the percentage of values at or below it (the last is 100).
 */
export function cdfPoints(values: readonly number[]): CdfPoint[] {
  const sorted = [...values].sort((a, b) => a - b);
  const points: CdfPoint[] = [];
  sorted.forEach((x, i) => {
    const percent = ((i + 1) / sorted.length) * 100;
    if (points.length > 0 && (points[points.length - 1] as CdfPoint).x === x) points[points.length - 1] = { x, percent };
    else points.push({ x, percent });
  });
  return points;
}

/** The percentage of `values` at or below `x` (0 when there are none). */
export function percentAtOrBelow(values: readonly number[], x: number): number {
  if (values.length === 0) return 0;
  return (values.filter((value) => value <= x).length / values.length) * 100;
}

/** A round upper bound for an x axis that shows every value: 1, 2 or 5 times a power of ten. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
