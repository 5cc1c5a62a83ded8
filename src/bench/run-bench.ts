/**
 * `npm run bench`: opens the system (a fresh local zraft cluster, or the
 * running one of --config), preloads the keys when the mix reads, runs the
 * first step's load unmeasured for --warmup seconds, runs one step per
 * concurrency level (settling the cluster between steps), reads
 * every acknowledged write back, and reports. With --vs-etcd and an `etcd`
 * binary on PATH, it then does the same against a fresh five-member etcd
 * cluster (zraft's stopped first, so the two never share the machine) and
 * prints the two side by side. With --rounds N all of it N times, etcd
 * first in even rounds, then the medians side by side and the median of
 * each round's own ratio. Resolves to the exit code: 0; 1 when a
 * write was lost (that cluster's folder is then kept); 2 when the --config
 * file is bad, or the open-files limit is too low for the clients; 130 when
 * `stopEarly` ended the run before its last step's end (etcd's run, if any
 * was to follow, is then skipped).
 */
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { reportCommandLineError } from "../cli/args.ts";
import { benchUsage, timingMismatch, type BenchOptions } from "./bench-options.ts";
import { comparisonJson, formatComparison, formatRatios, medianRatios, medianSteps, stepRatios, type ComparedStep, type StepRatio } from "./bench-compare.ts";
import { benchJson, formatStep, formatSummary, formatVerification, verificationJson } from "./bench-report.ts";
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
    zraft = await ZraftSystem.open(options.configPath, options.timing);
  } catch (error) {
    // A --config file that cannot be read or is not a valid config: one line, exit 2, as every zraft program.
    const exitCode = reportCommandLineError("bench", error, benchUsage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  const mismatch = etcdBinary === undefined || options.configPath === undefined ? undefined : timingMismatch(zraft.target.config, options.timing);
  if (mismatch !== undefined) say(mismatch);
  const rounds: Round[] = [];
  for (let round = 1; round <= options.rounds && !stopEarly.aborted; round++) {
    if (options.rounds > 1) say(`${round === 1 ? "" : "\n"}round ${round} of ${options.rounds}`);
    // Round 1 measures the system opened above; each later round starts its own cluster when its turn comes.
    const openZraft = async (): Promise<ZraftSystem> => (round === 1 ? zraft : ZraftSystem.open(options.configPath, options.timing));
    rounds.push(await runRound(round, openZraft, etcdBinary, options, say, stopEarly));
  }
  const compared = rounds.flatMap(({ zraft: ours, etcd: theirs }) => (ours !== undefined && theirs !== undefined ? [{ ours, theirs }] : []));
  const medians =
    compared.length > 1
      ? {
          zraft: medianSteps(compared.map(({ ours }) => ours.steps)),
          etcd: medianSteps(compared.map(({ theirs }) => theirs.steps)),
          roundRatio: medianRatios(compared.map(({ ours, theirs }) => stepRatios(ours.steps, theirs.steps))),
        }
      : undefined;
  if (medians !== undefined) {
    say("");
    for (const line of formatComparison(medians.zraft, medians.etcd, `medians over ${compared.length} rounds, zraft vs etcd`)) say(line);
    say("");
    for (const line of formatRatios(medians.roundRatio, `the median of the ${compared.length} rounds' own ratios`)) say(line);
  }
  // Round 1 measures zraft first, so it is there even when Ctrl-C ended the run.
  const first = rounds[0]?.zraft;
  if (options.jsonFile !== undefined && first !== undefined) {
    writeFileSync(options.jsonFile, `${JSON.stringify(runJson(startedAt, options, first, rounds, medians), null, 2)}\n`);
    say(`figures written to ${options.jsonFile}`);
  }
  if (rounds.some((round) => [round.zraft, round.etcd].some((run) => run !== undefined && run.verification.lost.length > 0))) return 1;
  return stopEarly.aborted ? 130 : 0;
}

/** One pass over every step: zraft's, and etcd's when it is compared (either may be missing after Ctrl-C). */
interface Round {
  readonly zraft?: Measured;
  readonly etcd?: Measured;
}

/**
 * zraft's steps and etcd's, each system on a cluster of its own that is
 * stopped before the other starts, then the two side by side. zraft goes
 * first in odd rounds and etcd in even ones, so that a machine whose speed
 * drifts over a run favours neither.
 */
async function runRound(
  round: number,
  openZraft: () => Promise<ZraftSystem>,
  etcdBinary: string | undefined,
  options: BenchOptions,
  say: (line: string) => void,
  stopEarly: AbortSignal,
): Promise<Round> {
  const zraftRun = async (): Promise<Round> => ({ zraft: await measureAndStop(await openZraft(), options, say, stopEarly) });
  if (etcdBinary === undefined) return zraftRun();
  const etcdRun = async (): Promise<Round> => ({ etcd: await measureAndStop(await EtcdSystem.start(etcdBinary, options.timing), options, say, stopEarly) });
  const [first, second] = round % 2 === 1 ? [zraftRun, etcdRun] : [etcdRun, zraftRun];
  const measured = await first();
  if (stopEarly.aborted) return measured;
  say("");
  const both: Round = { ...measured, ...(await second()) };
  if (both.zraft !== undefined && both.etcd !== undefined) {
    say("");
    for (const line of formatComparison(both.zraft.steps, both.etcd.steps)) say(line);
  }
  return both;
}

/**
 * What --json writes: the first round as a single run writes it (zraft's
 * figures at the top, etcd's and the ratios beside them), and with several
 * rounds every round and the medians too.
 */
function runJson(
  startedAt: Date,
  options: BenchOptions,
  ours: Measured,
  rounds: readonly Round[],
  medians: { readonly zraft: ComparedStep[]; readonly etcd: ComparedStep[]; readonly roundRatio: StepRatio[] } | undefined,
): object {
  const machine = { cpus: availableParallelism(), node: process.version, platform: `${process.platform} ${process.arch}` };
  const theirs = rounds[0]?.etcd;
  const json = { ...benchJson(ours.system, startedAt, machine, options, ours.steps, ours.verification), ...(theirs === undefined ? {} : comparisonJson(ours.steps, theirs)) };
  if (rounds.length === 1) return json;
  const runJsonOf = (run: Measured | undefined): object | null => (run === undefined ? null : { steps: run.steps, verification: verificationJson(run.verification) });
  return {
    ...json,
    rounds: rounds.map((round) => ({
      zraft: runJsonOf(round.zraft),
      etcd: runJsonOf(round.etcd),
      ratio: round.zraft !== undefined && round.etcd !== undefined ? stepRatios(round.zraft.steps, round.etcd.steps) : null,
    })),
    ...(medians === undefined ? {} : { medians: { ...medians, ratio: stepRatios(medians.zraft, medians.etcd) } }),
  };
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
  const run = async (step: { readonly clients: number; readonly seconds: number }): Promise<StepResult> => {
    const progress = { ops: 0, errors: 0 };
    const hide = showProgress(process.stdout, step.seconds, progress);
    try {
      return await runStep(system, ledger, values, shape, step, progress, stopEarly);
    } finally {
      hide();
    }
  };
  const clientsText = (clients: number): string => `${clients} client${clients === 1 ? "" : "s"}`;
  const firstClients = options.clients[0] as number;
  if (options.warmupSeconds > 0 && !stopEarly.aborted) {
    // Servers and clients in Node.js run their code cold at first (interpreted, then compiled as it gets hot):
    // a first step without this measured that, at up to half the rate of the same step run again.
    say("");
    say(`warm-up: ${clientsText(firstClients)} for ${options.warmupSeconds} s, not measured`);
    const warmup = await run({ clients: firstClients, seconds: options.warmupSeconds });
    say(`warm-up: ${warmup.ops} ops, ${Object.values(warmup.errors).reduce((sum, count) => sum + count, 0)} errors`);
    await system.settle();
  }
  const steps: StepResult[] = [];
  for (const [index, clients] of options.clients.entries()) {
    if (stopEarly.aborted) break;
    say("");
    say(`step ${index + 1}/${options.clients.length}: ${clientsText(clients)} for ${options.seconds} s`);
    const step = await run({ clients, seconds: options.seconds });
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
