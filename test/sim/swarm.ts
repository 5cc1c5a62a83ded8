import { type Random, SeededRandom, raftConfigDefaults } from "../../src/raft/index.ts";
import type { SimRaftSettings, SnapshotPolicy } from "./sim-cluster.ts";
import type { SimClientOptions } from "./sim-client.ts";
import type { NetworkFaults } from "./sim-network.ts";

/**
 * How hostile one seed's world is. Each seed draws its own mix ("swarm
 * testing", as TigerBeetle's VOPR does): a few fault kinds at extreme rates
 * reach states that every fault at a moderate rate would not.
 */
export interface SwarmOptions {
  readonly clusterSize: number;
  readonly raft: Partial<SimRaftSettings>;
  readonly faults: NetworkFaults;
  /** Mean pause between partitions, or null for none. */
  readonly partitionEveryMs: number | null;
  readonly partitionMs: readonly [number, number];
  /** Mean pause between crashes, or null for none. */
  readonly crashEveryMs: number | null;
  /**
   * How partitions are made: at random (`random`, every partitionEveryMs),
   * or by the Figure 8 dance (`figure8`, §5.4.2): cut off a leader that
   * holds uncommitted entries, cut off its successor as soon as it takes
   * office (its first entries stay on it alone), let the old leader win
   * again and cut it off soon after. That is where a leader may wrongly
   * commit an entry of an earlier term by counting replicas.
   */
  readonly partitions: "random" | "figure8";
  readonly downtimeMs: readonly [number, number];
  /**
   * Mean pause between the controller's operations (a forced campaign at a
   * random node, a leader's step-down, a leadership transfer to a random
   * server), or null for none.
   */
  readonly controllerEveryMs: number | null;
  readonly clients: number;
  readonly client: SimClientOptions;
  /** When servers snapshot their state machines and compact their logs (dissertation ch. 5), or null for never. */
  readonly snapshots: SnapshotPolicy | null;
  /**
   * Membership changes among the faults (dissertation ch. 4): the mean pause
   * between them, and how many new servers may join; null for none.
   */
  readonly membership: { readonly everyMs: number; readonly joinsMax: number } | null;
}

/** Log-uniform in [min, max]: short and long pauses are as likely as each other. */
function logUniform(random: Random, min: number, max: number): number {
  return Math.round(min * Math.pow(max / min, random.next()));
}

function pick<T>(random: Random, choices: readonly T[]): T {
  return choices[random.intBetween(0, choices.length - 1)]!;
}

/** Draws the options of `seed` from a stream of its own, so they do not shift the run's randomness. */
export function drawSwarmOptions(seed: number): SwarmOptions {
  const random = new SeededRandom(seed ^ 0x5a5a5a5a);
  const chance = (p: number): boolean => random.next() < p;
  const delayMsMin = random.intBetween(0, 10);
  const heartbeatMs = pick(random, [20, 50]);
  const electionTimeoutMsMin = pick(random, [100, 150, 200].filter((ms) => ms > 2 * heartbeatMs));
  // Drawn from a stream of their own, so that adding them moved none of the draws above.
  const guards = new SeededRandom(seed ^ 0x3c3c3c3c);
  const guardOn = (): boolean => guards.next() < 0.85;
  const electionGuards = { preVote: guardOn(), checkQuorum: guardOn(), electionTimerFromFirstTick: guardOn() };
  const controllerEveryMs = guards.next() < 0.3 ? null : logUniform(guards, 200, 3000);
  // Also a stream of its own. Tails of one entry to a few dozen make lagging followers, term lookups and
  // replays after restarts read the log from storage (docs/architecture.md §2); the default keeps it all.
  const logTailBytesMax = pick(new SeededRandom(seed ^ 0x1e1e1e1e), [1, 200, 2000, raftConfigDefaults.logTailBytesMax]);
  // A stream of its own too. Snapshots every few entries, with a small margin, make compaction pass lagging and
  // restarted followers all the time, so that they catch up by InstallSnapshot (§5.1); some seeds keep whole logs.
  const snapshotDraws = new SeededRandom(seed ^ 0x0f0f0f0f);
  const snapshots =
    snapshotDraws.next() < 0.15
      ? null
      : { everyEntries: logUniform(snapshotDraws, 3, 40), marginEntries: snapshotDraws.intBetween(0, 10), chunksMax: pick(snapshotDraws, [1, 2, 4, 8]) };
  // And one more: duplicates that arrive seconds late, as through a slow second forwarder, bring stale
  // InstallSnapshot chunks to followers that have moved far past them, which must not go back for one (§5.1).
  const lateCopies = new SeededRandom(seed ^ 0x2d2d2d2d);
  const lateCopyMsMax = lateCopies.next() < 0.5 ? pick(lateCopies, [500, 3000]) : undefined;
  // Membership changes in half the seeds, from a stream of their own as well.
  const changes = new SeededRandom(seed ^ 0x4b4b4b4b);
  const membership = changes.next() < 0.5 ? { everyMs: logUniform(changes, 200, 2000), joinsMax: changes.intBetween(1, 3) } : null;
  // Trailing followers (docs/architecture.md §5) in most seeds, from a stream of its own: replication as it
  // runs, and the eager kind it falls back to, both under every fault.
  const trailingFollowers = new SeededRandom(seed ^ 0x69696969).next() < 0.75;
  return {
    clusterSize: pick(random, [1, 2, 3, 3, 3, 4, 5, 5, 5, 5, 7]),
    raft: {
      heartbeatMs,
      electionTimeoutMsMin,
      // A narrow range makes split votes, and so candidates sharing a term, common.
      electionTimeoutMsMax: electionTimeoutMsMin + random.intBetween(10, electionTimeoutMsMin),
      entriesPerAppendMax: pick(random, [1, 2, 3, 16, 1024]),
      inflightAppendsMax: pick(random, [1, 2, 16]),
      entriesPerReadyMax: pick(random, [1, 7, 4096]),
      logTailBytesMax,
      trailingFollowers,
      ...electionGuards,
    },
    faults: {
      dropRate: chance(0.2) ? 0 : random.next() * 0.3,
      duplicateRate: chance(0.3) ? 0 : random.next() * 0.1,
      delayMsMin,
      delayMsMax: delayMsMin + pick(random, [2, 10, 30, 80, 150]),
      lateCopyMsMax,
    },
    partitionEveryMs: chance(0.3) ? null : logUniform(random, 100, 3000),
    partitions: chance(0.3) ? "figure8" : "random",
    partitionMs: [random.intBetween(50, 300), random.intBetween(300, 2000)],
    crashEveryMs: chance(0.3) ? null : logUniform(random, 50, 3000),
    downtimeMs: [random.intBetween(5, 100), random.intBetween(100, 2000)],
    controllerEveryMs,
    clients: random.intBetween(1, 4),
    client: {
      pauseMsMin: random.intBetween(1, 20),
      pauseMsMax: random.intBetween(20, 200),
      readProbability: chance(0.3) ? 0 : random.next() * 0.3,
      writeTimeoutMs: random.intBetween(300, 1500),
    },
    snapshots,
    membership,
  };
}

const onOff = (flag: boolean | undefined): string => (flag === true ? "on" : "off");

/** One line that says what a seed's world is like. */
export function describeSwarm(options: SwarmOptions): string {
  const { faults, raft } = options;
  const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;
  const every = (ms: number | null): string => (ms === null ? "never" : `every ~${ms}ms`);
  return (
    `${options.clusterSize} nodes; drop ${percent(faults.dropRate)}, duplicate ${percent(faults.duplicateRate)}, ` +
    `delay ${faults.delayMsMin}-${faults.delayMsMax}ms${faults.lateCopyMsMax === undefined ? "" : ` (duplicates up to ${faults.lateCopyMsMax}ms)`}; partitions ${every(options.partitionEveryMs)} ` +
    `for ${options.partitionMs[0]}-${options.partitionMs[1]}ms; crashes ${every(options.crashEveryMs)} ` +
    `(${options.partitions === "figure8" ? "the Figure 8 dance" : "at random"}) ` +
    `for ${options.downtimeMs[0]}-${options.downtimeMs[1]}ms; ${options.clients} clients pausing ` +
    `${options.client.pauseMsMin}-${options.client.pauseMsMax}ms, ${percent(options.client.readProbability)} reads; ` +
    `heartbeat ${raft.heartbeatMs}ms, election ${raft.electionTimeoutMsMin}-${raft.electionTimeoutMsMax}ms, ` +
    `${raft.entriesPerAppendMax} entries/append, ${raft.inflightAppendsMax} in flight, ${raft.entriesPerReadyMax} entries/ready, log tail ${raft.logTailBytesMax} B; ` +
    `pre-vote ${onOff(raft.preVote)}, check-quorum ${onOff(raft.checkQuorum)}, timer from first tick ${onOff(raft.electionTimerFromFirstTick)}, trailing followers ${onOff(raft.trailingFollowers)}; ` +
    `controller ${every(options.controllerEveryMs)}; ` +
    (options.snapshots === null
      ? "no snapshots"
      : `a snapshot every ${options.snapshots.everyEntries} entries applied, ${options.snapshots.marginEntries} kept below it, in up to ${options.snapshots.chunksMax} chunks`) +
    "; " +
    (options.membership === null
      ? "no membership changes"
      : `membership changes every ~${options.membership.everyMs}ms, up to ${options.membership.joinsMax} servers joining`)
  );
}
