/**
 * A latency histogram with logarithmic buckets: each bucket is 1% wider
 * than the one before, so a percentile is within 1% of the true sample
 * whatever the scale, and memory stays a few hundred counters however many
 * samples are recorded. Min and max are exact. Pure.
 */

/** Relative width of a bucket. */
const growth = 1.01;
const logGrowth = Math.log(growth);
/** Values at or below this (ms) share bucket 0: one microsecond. */
const floorMs = 0.001;

export interface LatencySummary {
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export class LatencyHistogram {
  readonly #counts: number[] = [];
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;

  get count(): number {
    return this.#count;
  }

  /** Records one latency in milliseconds. */
  record(valueMs: number): void {
    const bucket = valueMs <= floorMs ? 0 : Math.ceil(Math.log(valueMs / floorMs) / logGrowth);
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#count += 1;
    if (valueMs < this.#min) this.#min = valueMs;
    if (valueMs > this.#max) this.#max = valueMs;
  }

  /**
   * The latency at quantile `q` (0..1), by nearest rank: the upper bound of
   * the bucket that holds that rank, kept within [min, max]; NaN when empty.
   */
  quantile(q: number): number {
    if (this.#count === 0) return Number.NaN;
    const rank = Math.min(this.#count, Math.max(1, Math.ceil(q * this.#count)));
    // The first and last ranks are the exact min and max.
    if (rank === 1) return this.#min;
    if (rank === this.#count) return this.#max;
    let seen = 0;
    for (let bucket = 0; bucket < this.#counts.length; bucket++) {
      seen += this.#counts[bucket] ?? 0;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, floorMs * growth ** bucket));
    }
    return this.#max;
  }

  /** Min, p50, p90, p99 and max; undefined when nothing was recorded. */
  summary(): LatencySummary | undefined {
    if (this.#count === 0) return undefined;
    return { min: this.#min, p50: this.quantile(0.5), p90: this.quantile(0.9), p99: this.quantile(0.99), max: this.#max };
  }
}
