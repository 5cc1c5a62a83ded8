/**
 * One step of the benchmark: `clients` closed-loop clients, each with its
 * own connection and its own keys (key i belongs to client i mod clients),
 * sending its next operation as soon as the last is answered, for
 * `seconds`. Latencies go to a histogram, failures are counted by code,
 * and every write is entered in the ledger. Also the preload that gives
 * every key a value before a run of gets or compare-and-sets.
 */
import type { WorkloadMix } from "./bench-options.ts";
import { LatencyHistogram, type LatencySummary } from "./histogram.ts";
import type { KvSystem, KvTarget } from "./kv-target.ts";
import { ProcessSampler, type ProcessFigures } from "./process-sampler.ts";
import type { WriteLedger } from "./write-ledger.ts";

export interface WorkloadShape {
  readonly mix: WorkloadMix;
  readonly keys: number;
  readonly valueSize: number;
  readonly stale: boolean;
}

export interface StepResult {
  readonly clients: number;
  /** From the first operation to the last answer, in seconds. */
  readonly elapsedSeconds: number;
  /** Operations answered successfully. */
  readonly ops: number;
  readonly opsPerSecond: number;
  /** Of the successful operations, in milliseconds; null when there were none. */
  readonly latencyMs: LatencySummary | null;
  /** Failed operations, by error code. */
  readonly errors: Readonly<Record<string, number>>;
  /** What the clients' library did behind the answers, by cause (see KvTarget.hidden). */
  readonly hidden: Readonly<Record<string, number>>;
  /** Compare-and-sets that did not swap (the key held something else): answered, not failed. */
  readonly casMismatches: number;
  readonly processes: readonly ProcessFigures[];
  /**
   * This process, the load generator: near a full core, it is the
   * bottleneck, and the step measures it rather than the system.
   */
  readonly generator: ProcessFigures;
}

/** What a running step has done so far, for the progress line. */
export interface StepProgress {
  ops: number;
  errors: number;
}

export const keyName = (index: number): string => `bench/k${String(index).padStart(7, "0")}`;

/** Unique values of the configured size: a run-wide counter, padded. */
export class ValueMaker {
  #next = 0;
  constructor(readonly size: number) {}

  make(): string {
    return `${this.#next++}:`.padEnd(this.size, "x");
  }
}

/** The keys client `client` of `clients` owns. */
function ownKeys(client: number, clients: number, keys: number): string[] {
  const owned: string[] = [];
  for (let index = client; index < keys; index += clients) owned.push(keyName(index));
  return owned;
}

/** The operation of a workload on one key, given what is known of it; resolves to whether a cas swapped (true otherwise). */
async function operate(target: KvTarget, shape: WorkloadShape, key: string, ledger: WriteLedger, values: ValueMaker): Promise<boolean> {
  const write = shape.mix === "put" || (shape.mix === "mixed" && Math.random() < 0.5);
  if (shape.mix === "get" || (shape.mix === "mixed" && !write)) {
    await target.get(key, { stale: shape.stale });
    return true;
  }
  const value = values.make();
  const expected = ledger.known(key);
  if (shape.mix === "cas" && expected === undefined) {
    // A write of unknown outcome: learn the value first (this read is the operation).
    const read = await target.get(key, { stale: false });
    if (read !== null) ledger.acknowledged(key, read);
    return true;
  }
  try {
    if (shape.mix !== "cas") {
      await target.put(key, value);
      ledger.acknowledged(key, value);
      return true;
    }
    const swapped = await target.cas(key, expected ?? null, value);
    if (swapped) ledger.acknowledged(key, value);
    return swapped;
  } catch (error) {
    ledger.unknown(key, value);
    throw error;
  }
}

/** Runs one step, to its end or until `stopEarly` is aborted; `progress` is updated as it goes. */
export async function runStep(
  system: KvSystem,
  ledger: WriteLedger,
  values: ValueMaker,
  shape: WorkloadShape,
  step: { readonly clients: number; readonly seconds: number },
  progress: StepProgress,
  stopEarly?: AbortSignal,
): Promise<StepResult> {
  const targets = Array.from({ length: step.clients }, () => system.connect());
  const histogram = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let casMismatches = 0;
  try {
    // One read per client first, untimed: connections made, leader found.
    await Promise.all(targets.map((target, client) => target.get(keyName(client), { stale: shape.stale })));
    const generator = { name: "bench", pid: process.pid };
    const sampler = new ProcessSampler([...(await system.processes()), generator]);
    const hiddenBefore = sumCounts(targets.map((target) => target.hidden));
    const startedMs = performance.now();
    const endMs = startedMs + step.seconds * 1000;
    await Promise.all(
      targets.map(async (target, client) => {
        const keys = ownKeys(client, step.clients, shape.keys);
        for (let n = 0; performance.now() < endMs && stopEarly?.aborted !== true; n++) {
          const key = keys[n % keys.length] as string;
          const sentMs = performance.now();
          try {
            const swapped = await operate(target, shape, key, ledger, values);
            histogram.record(performance.now() - sentMs);
            progress.ops += 1;
            if (!swapped) casMismatches += 1;
          } catch (error) {
            const code = system.errorCode(error);
            errors[code] = (errors[code] ?? 0) + 1;
            progress.errors += 1;
          }
        }
      }),
    );
    const elapsedSeconds = (performance.now() - startedMs) / 1000;
    const figures = sampler.stop();
    const processes = figures.filter((figure) => figure.pid !== generator.pid);
    return {
      clients: step.clients,
      elapsedSeconds,
      ops: histogram.count,
      opsPerSecond: histogram.count / elapsedSeconds,
      latencyMs: histogram.summary() ?? null,
      errors,
      hidden: subtractCounts(sumCounts(targets.map((target) => target.hidden)), hiddenBefore),
      casMismatches,
      processes,
      generator: figures.find((figure) => figure.pid === generator.pid) ?? { ...generator, cpuSeconds: null, peakRssBytes: null },
    };
  } finally {
    for (const target of targets) target.close();
  }
}

function sumCounts(counts: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const record of counts) for (const [cause, count] of Object.entries(record)) sum[cause] = (sum[cause] ?? 0) + count;
  return sum;
}

/** `after` less `before`, without the causes that did not grow. */
function subtractCounts(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).flatMap(([cause, count]) => (count > (before[cause] ?? 0) ? [[cause, count - (before[cause] ?? 0)]] : [])));
}

/** Gives every key a value (before gets or compare-and-sets), `concurrency` writers at once. */
export async function preload(system: KvSystem, ledger: WriteLedger, values: ValueMaker, keys: number, concurrency = 16): Promise<void> {
  const writers = Math.min(concurrency, keys);
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const target = system.connect();
      try {
        for (const key of ownKeys(writer, writers, keys)) {
          const value = values.make();
          await target.put(key, value);
          ledger.acknowledged(key, value);
        }
      } finally {
        target.close();
      }
    }),
  );
}
