/**
 * `ZRAFT_SEED=12345 npm run sim`: replays one fuzz seed exactly as the fuzz
 * test ran it, prints its trace and the verdict. Exit code 0 when every
 * checker passed, 1 on a violation, 2 on bad usage.
 *
 * ZRAFT_TRACE_LINES=n prints the last n trace lines (default 2000).
 * ZRAFT_BROKEN=<name> replays with one of the teeth test's broken cores.
 */
import { brokenCores, isBrokenCoreName } from "./broken-cores.ts";
import { SimulationViolation } from "./checkers.ts";
import { runSeed } from "./fuzz-run.ts";
import type { SimCluster } from "./sim-cluster.ts";
import { describeSwarm, drawSwarmOptions } from "./swarm.ts";

function positiveIntegerFromEnv(name: string, fallback: number | null): number | null {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}

const seed = positiveIntegerFromEnv("ZRAFT_SEED", null);
if (seed === null) {
  console.error("usage: ZRAFT_SEED=<seed> npm run sim   (ZRAFT_TRACE_LINES=n for a longer or shorter trace)");
  process.exit(2);
}
const traceLines = Math.max(1, positiveIntegerFromEnv("ZRAFT_TRACE_LINES", 2000)!);
const broken = process.env.ZRAFT_BROKEN;
if (broken !== undefined && broken !== "" && !isBrokenCoreName(broken)) {
  console.error(`ZRAFT_BROKEN must be one of ${Object.keys(brokenCores).join(", ")}, got ${JSON.stringify(broken)}`);
  process.exit(2);
}
const brokenCore = broken === undefined || broken === "" ? undefined : broken;

function printTrace(cluster: SimCluster | null): void {
  if (cluster === null) return;
  const { trace } = cluster;
  console.log(`--- trace: the last ${Math.min(trace.capacity, trace.recordedCount)} of ${trace.recordedCount} records ---`);
  for (const line of trace.tail()) console.log(line);
  console.log("---");
  console.log(cluster.describeServers().join("\n"));
}

// Set by runSeed before the run starts, so that a violation can still print the trace.
let cluster = null as SimCluster | null;
console.log(`seed ${seed}: ${describeSwarm(drawSwarmOptions(seed))}`);
try {
  const result = runSeed(seed, { traceCapacity: traceLines, onCluster: (c) => (cluster = c), brokenCore });
  printTrace(cluster);
  console.log(
    `PASS seed ${seed}: ${result.events} events, ${result.virtualMs} virtual ms in ${result.wallMs.toFixed(0)} wall ms ` +
      `(${Math.round((result.events / result.wallMs) * 1000)} events/s); ${result.leaderTerms} terms with a leader, ` +
      `${result.committedIndex} entries committed, ${result.readsConfirmed} reads confirmed; ${result.snapshots.taken} snapshots taken, ` +
      `${result.snapshots.installed} installed by followers, ${result.snapshots.restoredAtStart} restored at start-up; ` +
      (result.membership === null
        ? ""
        : `${result.membership.appended} membership changes appended, ${result.membership.refused} refused, ${result.membership.committed} configuration entries committed, ` +
          `${result.membership.joined} servers joined; `) +
      `after healing, a command committed ` +
      `on a majority in ${result.liveness.committedAfterMs} ms and on every node in ${result.liveness.convergedAfterMs} ms`,
  );
} catch (error) {
  if (!(error instanceof SimulationViolation)) throw error;
  printTrace(cluster);
  console.log(`VIOLATION seed ${seed}: ${error.checker} at t=${error.atMs}ms\n${error.details}`);
  process.exitCode = 1;
}
