/**
 * The side-by-side of `npm run bench -- --vs-etcd`: per step, zraft's and
 * etcd's throughput, p50 and p99, and the ratio zraft/etcd of each (above
 * 1 is more throughput, or more latency). Pure (figures in, text out).
 */
import { formatMs } from "../failover/statistics.ts";
import { formatTable, verificationJson } from "./bench-report.ts";
import type { StepResult } from "./workload.ts";
import type { Verification } from "./write-ledger.ts";

/** What the side-by-side reads of a step: one run's StepResult, or the medians of several (medianSteps). */
export interface ComparedStep {
  readonly clients: number;
  readonly opsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number } | null;
}

/** zraft/etcd for one step; null where a figure is missing or etcd's is 0. */
export interface StepRatio {
  readonly clients: number;
  readonly opsPerSecond: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
}

const ratioOf = (zraft: number | undefined, etcd: number | undefined): number | null =>
  zraft === undefined || etcd === undefined || etcd === 0 ? null : zraft / etcd;

/** zraft/etcd of one step that both ran. */
function stepRatio(ours: ComparedStep, theirs: ComparedStep): StepRatio {
  return {
    clients: ours.clients,
    opsPerSecond: ratioOf(ours.opsPerSecond, theirs.opsPerSecond),
    p50: ratioOf(ours.latencyMs?.p50, theirs.latencyMs?.p50),
    p99: ratioOf(ours.latencyMs?.p99, theirs.latencyMs?.p99),
  };
}

/** The steps both runs share, paired by position (both ran the same --clients list). */
function pairs(zraft: readonly ComparedStep[], etcd: readonly ComparedStep[]): [ComparedStep, ComparedStep][] {
  return zraft.flatMap((ours, index): [ComparedStep, ComparedStep][] => {
    const theirs = etcd[index];
    return theirs !== undefined && theirs.clients === ours.clients ? [[ours, theirs]] : [];
  });
}

export function stepRatios(zraft: readonly ComparedStep[], etcd: readonly ComparedStep[]): StepRatio[] {
  return pairs(zraft, etcd).map(([ours, theirs]) => stepRatio(ours, theirs));
}

const times = (ratio: number | null): string => (ratio === null ? "n/a" : `${ratio.toFixed(2)}x`);
const ms = (value: number | undefined): string => (value === undefined ? "n/a" : formatMs(value));

/** The median of each step's ops/s, p50 and p99 over runs of the same steps (a step some run lacks is left out). */
export function medianSteps(runs: readonly (readonly ComparedStep[])[]): ComparedStep[] {
  const first = runs[0] ?? [];
  return first.flatMap((step, index): ComparedStep[] => {
    const same = runs.map((run) => run[index]).filter((other): other is ComparedStep => other?.clients === step.clients);
    if (same.length < runs.length) return [];
    const latencies = same.flatMap((other) => (other.latencyMs === null ? [] : [other.latencyMs]));
    return [
      {
        clients: step.clients,
        opsPerSecond: median(same.map((other) => other.opsPerSecond)),
        latencyMs: latencies.length === 0 ? null : { p50: median(latencies.map((l) => l.p50)), p99: median(latencies.map((l) => l.p99)) },
      },
    ];
  });
}

/**
 * The median over rounds of each round's own ratio, figure by figure: each
 * round runs both systems minutes apart, where --rounds' medians pair
 * figures from rounds that may lie far apart on a machine whose speed
 * drifts. A step some round lacks is left out, and so is a figure some
 * round has no ratio for.
 */
export function medianRatios(rounds: readonly (readonly StepRatio[])[]): StepRatio[] {
  const first = rounds[0] ?? [];
  return first.flatMap((ratio, index): StepRatio[] => {
    const same = rounds.map((round) => round[index]).filter((other): other is StepRatio => other?.clients === ratio.clients);
    if (same.length < rounds.length) return [];
    const of = (figure: "opsPerSecond" | "p50" | "p99"): number | null => {
      const values = same.map((other) => other[figure]);
      return values.every((value): value is number => value !== null) ? median(values) : null;
    };
    return [{ clients: ratio.clients, opsPerSecond: of("opsPerSecond"), p50: of("p50"), p99: of("p99") }];
  });
}

/** One row per step: the ratios alone (medianRatios). */
export function formatRatios(ratios: readonly StepRatio[], of: string): string[] {
  const rows = [["clients", "ops/s ratio", "p50 ratio", "p99 ratio"]];
  for (const ratio of ratios) rows.push([String(ratio.clients), times(ratio.opsPerSecond), times(ratio.p50), times(ratio.p99)]);
  return [`${of} (zraft/etcd):`, ...formatTable(rows)];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One row per step: ops/s, p50 and p99 of both systems with the ratio after each pair. */
export function formatComparison(zraft: readonly ComparedStep[], etcd: readonly ComparedStep[], of = "zraft vs etcd"): string[] {
  const rows = [["clients", "zraft ops/s", "etcd ops/s", "ratio", "zraft p50", "etcd p50", "ratio", "zraft p99", "etcd p99", "ratio"]];
  for (const [ours, theirs] of pairs(zraft, etcd)) {
    const ratio = stepRatio(ours, theirs);
    rows.push([
      String(ratio.clients),
      ours.opsPerSecond.toFixed(0),
      theirs.opsPerSecond.toFixed(0),
      times(ratio.opsPerSecond),
      ms(ours.latencyMs?.p50),
      ms(theirs.latencyMs?.p50),
      times(ratio.p50),
      ms(ours.latencyMs?.p99),
      ms(theirs.latencyMs?.p99),
      times(ratio.p99),
    ]);
  }
  return [`${of} (ratio = zraft/etcd; ops/s higher is better, latency lower is better):`, ...formatTable(rows)];
}

/** What `--json` adds for --vs-etcd: etcd's figures beside zraft's (which stay at the top level), and the ratios. */
export function comparisonJson(
  zraft: readonly StepResult[],
  etcd: { readonly system: string; readonly description: string; readonly steps: readonly StepResult[]; readonly verification: Verification },
): { readonly etcd: object; readonly ratio: StepRatio[] } {
  return {
    etcd: { system: etcd.system, description: etcd.description, steps: etcd.steps, verification: verificationJson(etcd.verification) },
    ratio: stepRatios(zraft, etcd.steps),
  };
}
