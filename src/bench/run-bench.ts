/**
 * `npm run bench`: opens the system (a fresh local zraft cluster, or the
 * running one of --config), preloads the keys when the mix reads, runs one
 * step per concurrency level (settling the cluster between steps), reads
 * every acknowledged write back, and reports. With --vs-etcd and an `etcd`
 * binary on PATH, it then does the same against a fresh five-member etcd
 * cluster (zraft's stopped first, so the two never share the machine) and
 * prints the two side by side. Resolves to the exit code: 0; 1 when a
 * write was lost (that cluster's folder is then kept); 2 when the --config
 * file is bad, or the open-files limit is too low for the clients; 130 when
 * `stopEarly` ended the run before its last step's end (etcd's run, if any
 * was to follow, is then skipped).
 */
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { reportCommandLineError } from "../cli/args.ts";
import { benchUsage, type BenchOptions } from "./bench-options.ts";
import { comparisonJson, formatComparison } from "./bench-compare.ts";
import { benchJson, formatStep, formatSummary, formatVerification } from "./bench-report.ts";
import { findEtcdBinary } from "./etcd-cluster.ts";
import { EtcdSystem } from "./etcd-system.ts";
import type { KvSystem } from "./kv-target.ts";
import { showProgress } from "./progress.ts";
import { clientsProblem, openFilesLimit, reserveClientSockets } from "./socket-budget.ts";
import { preload, runStep, ValueMaker, type StepResult } from "./workload.ts";
import { WriteLedger, type Verification } from "./write-ledger.ts";
import { ZraftSystem } from "./zraft-system.ts";

/** One system's run. */
interface Measured {
  readonly system: string;
  readonly description: string;
  readonly steps: readonly StepResult[];
  readonly verification: Verification;
}

export const noEtcdLine = "--vs-etcd: no etcd binary on PATH, so zraft runs alone; to compare, install it (Debian: apt-get install etcd-server) or put `etcd` on PATH";

export async function runBench(options: BenchOptions, say: (line: string) => void, stopEarly: AbortSignal = new AbortController().signal): Promise<number> {
  const startedAt = new Date();
  const mostClients = Math.max(...options.clients);
  const problem = clientsProblem(mostClients, openFilesLimit());
  if (problem !== undefined) {
    process.stderr.write(`bench: ${problem}\n`);
    return 2;
  }
  reserveClientSockets(mostClients);
  const etcdBinary = options.vsEtcd ? findEtcdBinary() : undefined;
  if (options.vsEtcd && etcdBinary === undefined) say(noEtcdLine);
  let zraft: ZraftSystem;
  try {
    zraft = await ZraftSystem.open(options.configPath);
  } catch (error) {
    // A --config file that cannot be read or is not a valid config: one line, exit 2, as every zraft program.
    const exitCode = reportCommandLineError("bench", error, benchUsage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  const ours = await measureAndStop(zraft, options, say, stopEarly);
  let theirs: Measured | undefined;
  if (etcdBinary !== undefined && !stopEarly.aborted) {
    say("");
    theirs = await measureAndStop(await EtcdSystem.start(etcdBinary), options, say, stopEarly);
    say("");
    for (const line of formatComparison(ours.steps, theirs.steps)) say(line);
  }
  if (options.jsonFile !== undefined) {
    const machine = { cpus: availableParallelism(), node: process.version, platform: `${process.platform} ${process.arch}` };
    const json = { ...benchJson(ours.system, startedAt, machine, options, ours.steps, ours.verification), ...(theirs === undefined ? {} : comparisonJson(ours.steps, theirs)) };
    writeFileSync(options.jsonFile, `${JSON.stringify(json, null, 2)}\n`);
    say(`figures written to ${options.jsonFile}`);
  }
  if ([ours, theirs].some((run) => run !== undefined && run.verification.lost.length > 0)) return 1;
  return stopEarly.aborted ? 130 : 0;
}

/** Measures `system`, then stops it: its folder is kept when a write was lost or the run failed. */
async function measureAndStop(system: KvSystem & { readonly clusterDir: string | undefined }, options: BenchOptions, say: (line: string) => void, stopEarly: AbortSignal): Promise<Measured> {
  let keep = true;
  try {
    const measured = await measure(system, options, say, stopEarly);
    keep = measured.verification.lost.length > 0;
    return measured;
  } finally {
    await system.cleanup({ keepDir: keep });
    if (keep && system.clusterDir !== undefined) say(`the cluster's folder, with every process's log, is kept: ${system.clusterDir}`);
  }
}

async function measure(system: KvSystem, options: BenchOptions, say: (line: string) => void, stopEarly: AbortSignal): Promise<Measured> {
  const { mix, keys, valueSize, stale } = options;
  const shape = { mix, keys, valueSize, stale };
  say(`bench: ${system.name}, ${system.description}`);
  say(
    `workload: ${mix}${mix === "put" || mix === "cas" ? "" : stale ? " (stale gets)" : " (linearizable gets)"}, ${keys} keys, ${valueSize}-byte values, ` +
      `${options.seconds} s per step, clients ${options.clients.join(", ")}; ${availableParallelism()} CPUs, node ${process.version}`,
  );
  const ledger = new WriteLedger();
  const values = new ValueMaker(valueSize);
  if (mix !== "put") {
    say(`preload: one put to each of the ${keys} keys`);
    await preload(system, ledger, values, keys);
    await system.settle();
  }
  const steps: StepResult[] = [];
  for (const [index, clients] of options.clients.entries()) {
    if (stopEarly.aborted) break;
    say("");
    say(`step ${index + 1}/${options.clients.length}: ${clients} client${clients === 1 ? "" : "s"} for ${options.seconds} s`);
    const progress = { ops: 0, errors: 0 };
    const hide = showProgress(process.stdout, options.seconds, progress);
    let step: StepResult;
    try {
      step = await runStep(system, ledger, values, shape, { clients, seconds: options.seconds }, progress, stopEarly);
    } finally {
      hide();
    }
    steps.push(step);
    for (const line of formatStep(step, mix)) say(line);
    await system.settle();
  }
  if (stopEarly.aborted) {
    const last = steps.at(-1);
    say("");
    say(`stopped early by Ctrl-C: ${steps.length} of ${options.clients.length} steps ran${last === undefined ? "" : `, the last for ${last.elapsedSeconds.toFixed(1)} of its ${options.seconds} s`}`);
  }
  say("");
  for (const line of formatSummary(steps)) say(line);
  const verification = await ledger.verify(() => system.connect());
  for (const line of formatVerification(verification)) say(line);
  return { system: system.name, description: system.description, steps, verification };
}
