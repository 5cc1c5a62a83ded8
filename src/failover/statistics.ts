/**
 * The few statistics the failover tools print: nearest-rank quantiles and a
 * min / median / p90 / max summary of a set of durations. Pure.
 */

/** The value at quantile `q` (0..1) of ascending `sorted`, by nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
}

/** Min, median, p90 and max of `values` (any order); undefined when there are none. */
export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    min: sorted[0] as number,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    max: sorted[sorted.length - 1] as number,
  };
}

/** A duration for people: whole milliseconds, or two decimals below 10 ms. */
export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
}

/** "min 153 ms, median 201 ms, p90 288 ms, max 301 ms (n=20)", or "no values". */
export function describeSummary(summary: Summary | undefined): string {
  if (summary === undefined) return "no values";
  return (
    `min ${formatMs(summary.min)}, median ${formatMs(summary.median)}, p90 ${formatMs(summary.p90)}, ` +
    `max ${formatMs(summary.max)} (n=${summary.count})`
  );
}
