/**
 * One chaos run, start to end: a fresh 5-server cluster (src/local-cluster,
 * with fault control on its forwarder), the clients and the nemesis for the
 * chosen time, then heal, read every key, stop every process, check.
 *
 * Every process is killed at the end whatever happens (LocalCluster.cleanup,
 * in a finally); the cluster's folder is removed after a passing run, and
 * kept with the evidence after a failing one.
 */
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkLinearizable, type CheckResult } from "../linearizability/index.ts";
import { startLocalCluster } from "../local-cluster/local-cluster.ts";
import { findAnomalies, type Anomalies } from "./anomalies.ts";
import type { ChaosOptions } from "./chaos-options.ts";
import { EveryForwarder, checkNotExitedByItself, type FaultContext } from "./faults.ts";
import { healAndSettle, readEveryKey } from "./final-reads.ts";
import { HistoryRecorder, checkerHistory } from "./history.ts";
import { runNemesis, type FaultEvent } from "./nemesis.ts";
import { explainCheck, keepEvidence, passed, summarize, type ChaosSummary } from "./report.ts";
import { SeededRandom } from "./seeded-random.ts";
import { runWorkloadClient, workloadClientTiming, workloadKeys } from "./workload.ts";

export interface ChaosResult {
  readonly summary: ChaosSummary;
  readonly passed: boolean;
  /** Where the evidence is, when it was kept. */
  readonly keptIn: string | undefined;
}

/** Faults that could not be injected or healed: worth a look, but the final heal covers them, so they fail nothing. */
function faultNotes(events: readonly FaultEvent[]): string[] {
  return events.filter((event) => event.problem !== undefined).map((event) => `fault ${event.number} (${event.description}): ${event.problem}`);
}

/** How often servers installed a leader's snapshot, from their logs (each says so once per install). */
function countInstalls(dir: string, serverIds: readonly number[]): number {
  const logged = (id: number): string => {
    try {
      return readFileSync(join(dir, `server-${id}.log`), "utf8");
    } catch {
      return "";
    }
  };
  return serverIds.reduce((count, id) => count + logged(id).split("installed the snapshot of server").length - 1, 0);
}

/** The nemesis's random stream, apart from the clients' (0 … clients-1). */
const nemesisStream = 1_000_000;

/** Runs the chaos test described by `options`; `say` prints the human lines. Rejects only when the harness itself fails. */
export async function runChaos(options: ChaosOptions, say: (line: string) => void): Promise<ChaosResult> {
  const snapshot = { entries: options.snapshotEvery, keepEntries: Math.floor(options.snapshotEvery / 10) };
  const cluster = await startLocalCluster({ faultControl: true, forwarders: options.forwarders, extraConfig: { snapshot } });
  const forwarderNames = cluster.config.forwarders.map((_, index) => `forwarder-${index}`);
  say(
    `chaos: ${options.forwarders === 1 ? "a forwarder" : `${options.forwarders} forwarders`} and ${cluster.serverIds.length} servers in ${cluster.dir}; ` +
      `${options.clients} clients on ${options.keys} keys ` +
      `for ${options.seconds} s; faults: ${options.faults.length === 0 ? "none" : options.faults.join(",")}; ` +
      `snapshots every ${options.snapshotEvery} entries; seed ${options.seed}`,
  );
  const random = new SeededRandom(options.seed);
  const problems: string[] = [];
  const noteProblem = (problem: string): void => {
    problems.push(problem);
    say(problem);
  };
  const control = new EveryForwarder(forwarderNames.map((_, index) => cluster.faultControl(index)));
  const context: FaultContext = { cluster, control, random: random.fork(nemesisStream), noteProblem };
  const keys = workloadKeys(options.keys);
  const recorder = new HistoryRecorder(options.clients);
  let events: FaultEvent[] = [];
  let runStartMs = performance.now();
  try {
    await cluster.findLeader({ timeoutMs: 30_000 });
    runStartMs = performance.now();
    const endMs = runStartMs + options.seconds * 1000;
    const stopped = (): boolean => performance.now() >= endMs;
    const clients = Array.from({ length: options.clients }, (_, index) =>
      runWorkloadClient(index, cluster.client(workloadClientTiming), random.fork(index), { recorder, keys, stopped }),
    );
    [events] = await Promise.all([runNemesis(context, { kinds: options.faults, runStartMs, endMs, report: say }), Promise.all(clients)]);
    try {
      say(await healAndSettle(context));
      const finalValues = await readEveryKey(cluster, keys, recorder);
      const unread = keys.filter((key) => !finalValues.has(key));
      if (unread.length > 0) noteProblem(`the final read of ${unread.join(", ")} failed every time`);
    } catch (error) {
      // The cluster did not come back after healing: a liveness failure, reported; the history is still checked.
      noteProblem(`the healed cluster did not settle: ${(error as Error).message}`);
    }
    for (const name of [...forwarderNames, ...cluster.serverIds.map((id) => `server-${id}`)]) checkNotExitedByItself(context, name);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n(the cluster's folder and process logs are kept in ${cluster.dir})`, { cause: error });
  } finally {
    // Stop every process before checking: the checker is CPU-bound and needs no cluster.
    await cluster.cleanup({ keepDir: true });
  }

  say(`snapshots: ${countInstalls(cluster.dir, cluster.serverIds)} installed by servers that were behind the others' compacted logs`);
  say(`checking ${recorder.records.length} operations${problems.length > 0 ? ` (${problems.length} problems noted)` : ""}`);
  const check: CheckResult = checkLinearizable(checkerHistory(recorder.records), { nowMs: () => performance.now() });
  const anomalies: Anomalies = findAnomalies(recorder.records);
  const summary = summarize(recorder.records, events, check, anomalies);
  const ok = passed(summary) && problems.length === 0;

  const keepIn = options.keepDir === undefined ? (ok ? undefined : cluster.dir) : resolve(options.keepDir);
  if (keepIn !== undefined) {
    keepEvidence(keepIn, cluster.dir, { options, summary, runStartMs, faults: events, records: recorder.records, explanation: explainCheck(check, anomalies, problems, faultNotes(events)) });
  }
  if (keepIn !== cluster.dir) rmSync(cluster.dir, { recursive: true, force: true });
  return { summary, passed: ok, keptIn: keepIn };
}
