/**
 * What `npm run bench` prints and writes: a table per step (throughput,
 * latency, errors, and each process's CPU and peak memory, so that the
 * bottleneck shows), a summary table of every step, the check of the
 * acknowledged writes, and the JSON of it all. Pure (text in, text out).
 */
import { formatMs } from "../failover/statistics.ts";
import type { BenchOptions } from "./bench-options.ts";
import type { ProcessFigures } from "./process-sampler.ts";
import type { StepResult } from "./workload.ts";
import type { Verification } from "./write-ledger.ts";

/** Pads each column of `rows` to its widest cell; the first column left-aligned, the others right-aligned. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ").trimEnd());
}

const megabytes = (bytes: number | null): string => (bytes === null ? "n/a" : (bytes / 1024 / 1024).toFixed(0));
const seconds = (value: number | null): string => (value === null ? "n/a" : value.toFixed(2));

/** "none", or "TIMEOUT 3, NO_LEADER 1". */
export function describeErrors(errors: Readonly<Record<string, number>>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "none" : entries.map(([code, count]) => `${code} ${count}`).join(", ");
}

/** A process's CPU over a step, as a percentage of one core. */
const cpuShare = (process: ProcessFigures, step: StepResult): string =>
  process.cpuSeconds === null ? "n/a" : ((100 * process.cpuSeconds) / step.elapsedSeconds).toFixed(0);

/** The lines of one step. */
export function formatStep(step: StepResult, mix: string): string[] {
  const latency = step.latencyMs;
  const lines = [
    `${step.clients} client${step.clients === 1 ? "" : "s"}, ${mix}: ${step.opsPerSecond.toFixed(0)} ops/s (${step.ops} ops in ${step.elapsedSeconds.toFixed(1)} s); ` +
      `errors: ${describeErrors(step.errors)}${step.casMismatches > 0 ? `; cas not swapped: ${step.casMismatches}` : ""}`,
    ...(Object.keys(step.hidden).length === 0 ? [] : [`  behind the answers: ${describeErrors(step.hidden)}`]),
    latency === null
      ? "  latency: no operation succeeded"
      : `  latency: min ${formatMs(latency.min)}, p50 ${formatMs(latency.p50)}, p90 ${formatMs(latency.p90)}, p99 ${formatMs(latency.p99)}, max ${formatMs(latency.max)}`,
  ];
  const rows = [["  process", "pid", "cpu s", "cpu %", "peak rss MB"]];
  for (const process of [...step.processes, { ...step.generator, name: "bench (load generator)" }]) {
    rows.push([`  ${process.name}`, String(process.pid), seconds(process.cpuSeconds), cpuShare(process, step), megabytes(process.peakRssBytes)]);
  }
  return [...lines, ...formatTable(rows)];
}

/** One row per step. */
export function formatSummary(steps: readonly StepResult[]): string[] {
  const rows = [["clients", "ops/s", "min", "p50", "p90", "p99", "max", "errors", "cluster cpu s", "max rss MB", "bench cpu %"]];
  for (const step of steps) {
    const latency = step.latencyMs;
    const ms = (value: number | undefined): string => (value === undefined ? "n/a" : formatMs(value));
    const cpu = step.processes.reduce((sum, process) => sum + (process.cpuSeconds ?? 0), 0);
    const rss = Math.max(0, ...step.processes.map((process) => process.peakRssBytes ?? 0));
    const errorCount = Object.values(step.errors).reduce((sum, count) => sum + count, 0);
    rows.push([String(step.clients), step.opsPerSecond.toFixed(0), ms(latency?.min), ms(latency?.p50), ms(latency?.p90), ms(latency?.p99), ms(latency?.max), String(errorCount), cpu.toFixed(2), megabytes(rss), cpuShare(step.generator, step)]);
  }
  return formatTable(rows);
}

/** The check of the acknowledged writes: one line, and each lost write after it. */
export function formatVerification(verification: Verification): string[] {
  if (verification.lost.length === 0) return [`verified: all ${verification.checked} keys hold their last acknowledged write; lost=0`];
  return [
    `DATA LOST: ${verification.lost.length} of ${verification.checked} keys do not hold their last acknowledged write; lost=${verification.lost.length} (a run that loses data is not a result)`,
    ...verification.lost.map((loss) => `  ${loss.key}: acknowledged ${JSON.stringify(loss.expected.slice(0, 40))}, read ${JSON.stringify(loss.read?.slice(0, 40) ?? null)}`),
  ];
}

export interface BenchJson {
  readonly system: string;
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly node: string; readonly platform: string };
  readonly options: Omit<BenchOptions, "jsonFile">;
  readonly steps: readonly StepResult[];
  readonly verification: { readonly checked: number; readonly lost: number; readonly lostKeys: Verification["lost"] };
}

export function benchJson(
  system: string,
  startedAt: Date,
  machine: BenchJson["machine"],
  options: BenchOptions,
  steps: readonly StepResult[],
  verification: Verification,
): BenchJson {
  const { jsonFile: _jsonFile, ...rest } = options;
  return {
    system,
    startedAt: startedAt.toISOString(),
    machine,
    options: rest,
    steps,
    verification: verificationJson(verification),
  };
}

export function verificationJson(verification: Verification): BenchJson["verification"] {
  return { checked: verification.checked, lost: verification.lost.length, lostKeys: verification.lost };
}
