/**
 * Simulator throughput: `npx tsx test/sim/sim-bench.ts [virtualSeconds] [seed]`.
 *
 * Runs one long fuzz seed (a safety phase of `virtualSeconds` with faults,
 * then the liveness phase) with every checker on, and prints simulated events
 * per second and virtual milliseconds per wall millisecond. Defaults: 120 s
 * of virtual time on seed 7 (five nodes, partitions, crashes, drops, reads).
 */
import { runSeed } from "./fuzz-run.ts";
import { describeSwarm } from "./swarm.ts";

function argument(position: number, fallback: number, name: string): number {
  const text = process.argv[position];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    console.error(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}

const virtualSeconds = argument(2, 120, "virtualSeconds");
const seed = argument(3, 7, "seed");
const result = runSeed(seed, { safetyMs: virtualSeconds * 1000 });
console.log(`seed ${seed}: ${describeSwarm(result.swarm)}`);
console.log(
  `${result.events} events, ${result.virtualMs} virtual ms in ${result.wallMs.toFixed(0)} wall ms: ` +
    `${Math.round((result.events / result.wallMs) * 1000)} events/s, ${(result.virtualMs / result.wallMs).toFixed(1)} virtual ms per wall ms; ` +
    `${result.committedIndex} entries committed, ${result.leaderTerms} terms with a leader, ${result.readsConfirmed} reads confirmed`,
);
