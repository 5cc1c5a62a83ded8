/**
 * What a chaos run tells: the one summary line, and for a run that failed
 * (or was asked to with --keep) the evidence in a folder: the history as
 * JSON, the checker's verdict and explanation, and every process's log.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CheckResult } from "../linearizability/index.ts";
import type { Anomalies } from "./anomalies.ts";
import type { ChaosOptions } from "./chaos-options.ts";
import type { OpRecord } from "./history.ts";
import type { FaultEvent } from "./nemesis.ts";

export interface ChaosSummary {
  readonly ops: number;
  readonly ok: number;
  readonly unknown: number;
  readonly faults: number;
  readonly linearizable: "yes" | "no" | "unknown";
  readonly lost: number;
  readonly duplicated: number;
  readonly checkerMs: number;
}

export function summarize(records: readonly OpRecord[], events: readonly FaultEvent[], check: CheckResult | undefined, anomalies: Anomalies): ChaosSummary {
  const verdict = check?.verdict;
  return {
    ops: records.length,
    ok: records.filter((record) => record.outcome === "ok").length,
    unknown: records.filter((record) => record.outcome === "unknown").length,
    faults: events.filter((event) => event.injected).length,
    linearizable: verdict === "linearizable" ? "yes" : verdict === "not-linearizable" ? "no" : "unknown",
    lost: anomalies.lost.length,
    duplicated: anomalies.duplicated.length,
    checkerMs: Math.round(check?.elapsedMs ?? 0),
  };
}

/** A run passes when the history is linearizable and nothing was lost or duplicated. */
export function passed(summary: ChaosSummary): boolean {
  return summary.linearizable === "yes" && summary.lost === 0 && summary.duplicated === 0;
}

/** The summary line, in this exact form: tools and the chaos test read it. */
export function summaryLine(summary: ChaosSummary): string {
  return (
    `ops=${summary.ops} ok=${summary.ok} unknown=${summary.unknown} faults=${summary.faults} ` +
    `linearizable=${summary.linearizable} lost=${summary.lost} duplicated=${summary.duplicated} checker_ms=${summary.checkerMs}`
  );
}

/** The checker's verdict, the anomalies, what failed the run besides them, and notes, for a person. */
export function explainCheck(check: CheckResult | undefined, anomalies: Anomalies, problems: readonly string[], notes: readonly string[] = []): string {
  const lines: string[] = [];
  if (check === undefined) lines.push("the checker did not run");
  else if (check.verdict === "linearizable") lines.push(`linearizable: ${check.operations} operations on ${check.keys} keys, checked in ${Math.round(check.elapsedMs)} ms`);
  else if (check.verdict === "not-linearizable") lines.push(`NOT linearizable on key ${check.key} (${check.operations} operations):`, check.explanation);
  else lines.push(`no verdict on key ${check.key}: ${check.reason}`);
  for (const write of anomalies.lost) lines.push(`lost: ${write.key} = ${write.value} was acknowledged last, then ${JSON.stringify(write.observedInstead)} was read`);
  for (const value of anomalies.duplicated) lines.push(`duplicated: ${value.key} = ${value.value} was read, then ${value.between}, then ${value.value} again`);
  for (const problem of problems) lines.push(`problem: ${problem}`);
  for (const note of notes) lines.push(`note: ${note}`);
  return `${lines.join("\n")}\n`;
}

export interface Evidence {
  readonly options: ChaosOptions;
  readonly summary: ChaosSummary;
  readonly runStartMs: number;
  readonly faults: readonly FaultEvent[];
  readonly records: readonly OpRecord[];
  readonly explanation: string;
}

/**
 * Writes history.json and checker.txt into `dir`, and copies the process
 * logs of `clusterDir` there when it is another folder.
 */
export function keepEvidence(dir: string, clusterDir: string, evidence: Evidence): void {
  mkdirSync(dir, { recursive: true });
  const { explanation, records, ...header } = evidence;
  // One record per line: a history of thousands of operations stays readable and greppable.
  const head = JSON.stringify(header, null, 1).replace(/\n}$/, "");
  writeFileSync(join(dir, "history.json"), `${head},\n "records": [\n${records.map((record) => `  ${JSON.stringify(record)}`).join(",\n")}\n ]\n}\n`);
  writeFileSync(join(dir, "checker.txt"), explanation);
  if (dir !== clusterDir) {
    for (const name of readdirSync(clusterDir).filter((file) => file.endsWith(".log"))) copyFileSync(join(clusterDir, name), join(dir, name));
  }
}
