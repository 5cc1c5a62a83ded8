/**
 * Proves that the Raft core keeps every safety property of Figure 3 (election
 * safety, log matching, leader completeness, state machine safety) plus
 * linearizable ReadIndex reads (§8) under hundreds of seeded worlds of
 * dropped, duplicated, delayed and reordered messages, partitions and
 * crashes, with log compaction and InstallSnapshot in most of them
 * (dissertation ch. 5); and that once the world heals, a leader is elected
 * and a command commits on a majority, then on every node, within a bounded
 * virtual time (liveness, §5.2).
 *
 * Seeds 1..500 by default. ZRAFT_SEEDS=n runs seeds 1..n; ZRAFT_SEED=s runs
 * only seed s. A failure prints the seed, the checker, the end of the trace
 * and the command that replays it: ZRAFT_SEED=<seed> npm run sim.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SimulationViolation } from "./checkers.ts";
import { runSeed } from "./fuzz-run.ts";

function seedsToRun(): number[] {
  const parse = (name: string): number | null => {
    const text = process.env[name];
    if (text === undefined || text === "") return null;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
    return value;
  };
  const one = parse("ZRAFT_SEED");
  if (one !== null) return [one];
  const count = parse("ZRAFT_SEEDS") ?? 500;
  return Array.from({ length: count }, (_, i) => i + 1);
}

test("every seed keeps Raft's safety properties, and recovers once healed", (t) => {
  const seeds = seedsToRun();
  let events = 0;
  let virtualMs = 0;
  let committed = 0;
  let slowestRecoveryMs = 0;
  const snapshots = { on: 0, taking: 0, installing: 0, taken: 0, installed: 0, restoredAtStart: 0 };
  const membership = { on: 0, changing: 0, appended: 0, refused: 0, committed: 0, joined: 0 };
  const wallStart = performance.now();
  for (const seed of seeds) {
    try {
      const result = runSeed(seed);
      events += result.events;
      virtualMs += result.virtualMs;
      committed += result.committedIndex;
      slowestRecoveryMs = Math.max(slowestRecoveryMs, result.liveness.convergedAfterMs);
      if (result.swarm.snapshots !== null) snapshots.on++;
      if (result.snapshots.taken > 0) snapshots.taking++;
      if (result.snapshots.installed > 0) snapshots.installing++;
      snapshots.taken += result.snapshots.taken;
      snapshots.installed += result.snapshots.installed;
      snapshots.restoredAtStart += result.snapshots.restoredAtStart;
      if (result.membership !== null) {
        membership.on++;
        if (result.membership.appended > 0) membership.changing++;
        membership.appended += result.membership.appended;
        membership.refused += result.membership.refused;
        membership.committed += result.membership.committed;
        membership.joined += result.membership.joined;
      }
    } catch (error) {
      if (error instanceof SimulationViolation) assert.fail(error.message);
      throw error;
    }
  }
  const wallMs = performance.now() - wallStart;
  t.diagnostic(
    `${seeds.length} seeds, ${events} events in ${(wallMs / 1000).toFixed(1)} s: ${Math.round((events / wallMs) * 1000)} events/s, ` +
      `${Math.round(virtualMs / wallMs)} virtual ms per wall ms; ${committed} entries committed; slowest recovery after healing ${slowestRecoveryMs} ms`,
  );
  t.diagnostic(
    `snapshots on in ${snapshots.on} seeds, taken in ${snapshots.taking} (${snapshots.taken} in all), installed by followers in ${snapshots.installing} ` +
      `(${snapshots.installed} in all); ${snapshots.restoredAtStart} starts restored a stored snapshot`,
  );
  t.diagnostic(
    `membership changes on in ${membership.on} seeds, made in ${membership.changing}: ${membership.appended} appended, ${membership.refused} refused, ` +
      `${membership.committed} configuration entries committed (the leaders' promotions included), ${membership.joined} servers joined`,
  );
});
