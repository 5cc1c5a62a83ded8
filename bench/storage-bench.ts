/**
 * Measures LmdbStorage.save with the settings the servers use (fsync'd
 * commits on lmdb-js's writer thread): saves per second and latency
 * percentiles for one-entry saves and for batches of 100 entries of 100
 * bytes, each save awaited before the next (as the server loop does), plus
 * how busy the event loop was meanwhile and how late a 1 ms timer ran.
 *
 *   npx tsx bench/storage-bench.ts [--dir <dataDir>] [--saves <n>]
 *
 * The default directory is a fresh one under the OS temp dir, removed at the
 * end; pass --dir to measure another disk.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Entry } from "../src/raft/index.ts";
import { LmdbStorage } from "../src/storage/lmdb-storage.ts";

interface Scenario {
  readonly name: string;
  readonly entriesPerSave: number;
  readonly dataBytes: number;
  readonly saves: number;
}

interface Figures {
  readonly savesPerSecond: number;
  readonly entriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Share of the run the main thread was busy (blocked included): what is left serves the network and timers. */
  readonly eventLoopUtilization: number;
  readonly eventLoopDelayP99Ms: number;
}

const warmupSaves = 20;
const scenarioTimeMsMax = 60_000;

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

async function runScenario(storage: LmdbStorage, scenario: Scenario, firstIndex: number): Promise<[Figures, number]> {
  const data = new Uint8Array(scenario.dataBytes).fill(0x61);
  let nextIndex = firstIndex;
  const save = (): Promise<void> => {
    const entries: Entry[] = [];
    for (let i = 0; i < scenario.entriesPerSave; i += 1) {
      entries.push({ index: nextIndex, term: 1, type: "command", data });
      nextIndex += 1;
    }
    return storage.save({ currentTerm: 1, votedFor: 1, commitIndex: firstIndex - 1 }, entries);
  };
  for (let i = 0; i < warmupSaves; i += 1) await save();

  const delay = monitorEventLoopDelay({ resolution: 1 });
  const latenciesMs: number[] = [];
  delay.enable();
  const utilizationBefore = performance.eventLoopUtilization();
  const started = performance.now();
  while (latenciesMs.length < scenario.saves && performance.now() - started < scenarioTimeMsMax) {
    const before = performance.now();
    await save();
    latenciesMs.push(performance.now() - before);
  }
  const elapsedS = (performance.now() - started) / 1000;
  const utilization = performance.eventLoopUtilization(utilizationBefore).utilization;
  delay.disable();
  latenciesMs.sort((a, b) => a - b);
  const figures: Figures = {
    savesPerSecond: latenciesMs.length / elapsedS,
    entriesPerSecond: (latenciesMs.length * scenario.entriesPerSave) / elapsedS,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    maxMs: latenciesMs.at(-1) ?? Number.NaN,
    eventLoopUtilization: utilization,
    eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
  };
  return [figures, nextIndex];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: "string" }, saves: { type: "string", default: "1000" } } });
  const saves = Number(values.saves);
  if (!Number.isSafeInteger(saves) || saves < 1) throw new Error(`--saves must be a positive integer, got ${values.saves}`);
  const dataDir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "zraft-bench-"));
  const scenarios: readonly Scenario[] = [
    { name: "1 entry of 100 B per save", entriesPerSave: 1, dataBytes: 100, saves },
    { name: "100 entries of 100 B per save", entriesPerSave: 100, dataBytes: 100, saves: Math.ceil(saves / 3) },
  ];
  const storage = await LmdbStorage.open(dataDir, 1);
  const firstIndex = (await storage.load()).entries.length + 1;
  console.log(`LmdbStorage.save, fsync'd (overlappingSync: false), in ${storage.path}`);
  try {
    let nextIndex = firstIndex;
    for (const scenario of scenarios) {
      const [figures, after] = await runScenario(storage, scenario, nextIndex);
      nextIndex = after;
      const f = (value: number): string => value.toFixed(2);
      console.log(
        `${scenario.name}: ${figures.savesPerSecond.toFixed(0)} saves/s (${figures.entriesPerSecond.toFixed(0)} entries/s), ` +
          `latency p50 ${f(figures.p50Ms)} ms, p99 ${f(figures.p99Ms)} ms, max ${f(figures.maxMs)} ms; ` +
          `event loop busy ${(figures.eventLoopUtilization * 100).toFixed(0)}%, timer delay p99 ${f(figures.eventLoopDelayP99Ms)} ms`,
      );
    }
  } finally {
    await storage.close();
    if (values.dir === undefined) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
