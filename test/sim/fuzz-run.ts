import { type BrokenCoreName, brokenCores } from "./broken-cores.ts";
import { FaultInjector } from "./fault-injector.ts";
import { checkLiveness, members, type LivenessResult } from "./liveness-check.ts";
import { MembershipChanger, type MembershipStats } from "./membership-changer.ts";
import { SimClient } from "./sim-client.ts";
import { SimCluster, type SnapshotStats } from "./sim-cluster.ts";
import { describeSwarm, drawSwarmOptions, type SwarmOptions } from "./swarm.ts";

export interface SeedRunOptions {
  /** Virtual duration of the phase with faults. */
  readonly safetyMs?: number;
  /** Virtual time a healthy cluster gets to elect, commit and converge. */
  readonly livenessBoundMs?: number;
  /** Runs a deliberately broken core instead of the real one (the teeth test). */
  readonly brokenCore?: BrokenCoreName;
  readonly traceCapacity?: number;
  readonly traceTailLines?: number;
  /** Called with the cluster before the run starts (the replay prints as it goes, a benchmark counts). */
  readonly onCluster?: (cluster: SimCluster) => void;
}

export interface SeedResult {
  readonly seed: number;
  readonly swarm: SwarmOptions;
  readonly events: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  /** Terms that had a leader. */
  readonly leaderTerms: number;
  readonly committedIndex: number;
  readonly readsConfirmed: number;
  readonly snapshots: SnapshotStats;
  /** Null when the seed made no membership changes. */
  readonly membership: (MembershipStats & { readonly committed: number }) | null;
  readonly liveness: LivenessResult;
}

export const defaultSafetyMs = 15_000;
export const defaultLivenessBoundMs = 10_000;

/** How fast the healed network replicates to one follower: what a round trip can carry, and how long one takes at most. */
interface ReplicationCapacity {
  readonly entriesPerRoundTrip: number;
  readonly roundTripMsMax: number;
}

/**
 * With clients stopped, waits until every member of the configuration in
 * force has applied everything the leader committed (liveness held, so it
 * comes). A server a change removed need not. The wait allows
 * quiescenceBoundMs, plus the round trips the world's own limits need to
 * carry the longest lag there is now: a learner counts toward no commit, so
 * clients can leave it hundreds of entries behind, and with three entries an
 * AppendEntries no correct leader closes that in 5 s. A round trip is
 * credited with one AppendEntries, not a full pipeline: the healed network
 * still reorders, and every AppendEntries in flight behind one it overtook
 * can be rejected, so only the refill at the gap is sure to land (docs/
 * architecture.md §5, "Gaps").
 */
function awaitQuiescence(cluster: SimCluster, capacity: ReplicationCapacity): void {
  const leaderNow = cluster.leader();
  const leaderLastIndex = leaderNow === null ? 0 : cluster.status(leaderNow)!.lastLogIndex;
  const lagEntries = Math.max(0, ...members(cluster).map((id) => leaderLastIndex - cluster.lastApplied(id)));
  const boundMs = quiescenceBoundMs + Math.ceil(lagEntries / capacity.entriesPerRoundTrip) * capacity.roundTripMsMax;
  const quiet = (): boolean => {
    const leader = cluster.leader();
    const target = leader === null ? -1 : cluster.status(leader)!.commitIndex;
    return members(cluster).every((id) => cluster.lastApplied(id) === target);
  };
  if (!cluster.runUntil(quiet, boundMs)) {
    cluster.fail(
      "liveness",
      `the members did not all apply the leader's commits within ${boundMs}ms of the clients stopping ` +
        `(${quiescenceBoundMs}ms, and ${capacity.roundTripMsMax}ms round trips of ${capacity.entriesPerRoundTrip} entries for a lag of ${lagEntries})\n` +
        cluster.describeServers().join("\n"),
    );
  }
}

/** The configuration entries committed in the run: the changes that took effect, the leaders' promotions included. */
function committedChanges(cluster: SimCluster): number {
  let changes = 0;
  for (let index = 1; index <= cluster.checker.committedIndex; index++) if (cluster.checker.committedEntry(index)!.type === "config") changes++;
  return changes;
}

const quiescenceBoundMs = 5000;

/** The command that replays `seed` (printed with every violation). */
export function replayCommand(seed: number, brokenCore?: BrokenCoreName): string {
  return `${brokenCore === undefined ? "" : `ZRAFT_BROKEN=${brokenCore} `}ZRAFT_SEED=${seed} npm run sim`;
}

/**
 * One fuzz seed: a world drawn from the seed (swarm options), a safety phase
 * with faults and clients, then a liveness phase on a healed, reliable
 * network. The checkers run after every event; a broken property throws a
 * SimulationViolation that names the seed.
 */
export function runSeed(seed: number, options: SeedRunOptions = {}): SeedResult {
  const wallStart = performance.now();
  const swarm = drawSwarmOptions(seed);
  const cluster = new SimCluster({
    seed,
    size: swarm.clusterSize,
    raft: swarm.raft,
    traceCapacity: options.traceCapacity ?? 2048,
    traceTailLines: options.traceTailLines ?? 60,
    replayCommand: replayCommand(seed, options.brokenCore),
    createNode: options.brokenCore === undefined ? undefined : brokenCores[options.brokenCore],
    snapshots: swarm.snapshots,
  });
  options.onCluster?.(cluster);
  cluster.trace.note(0, `seed ${seed}: ${describeSwarm(swarm)}${options.brokenCore === undefined ? "" : `; broken core: ${options.brokenCore}`}`);

  cluster.network.setFaults(swarm.faults);
  const faults = new FaultInjector(cluster, swarm);
  faults.start();
  const changer = swarm.membership === null ? null : new MembershipChanger(cluster, swarm.membership.everyMs, swarm.membership.joinsMax);
  changer?.start();
  const clients = Array.from({ length: swarm.clients }, (_, i) => new SimClient(cluster, `c${i + 1}`, swarm.client));
  for (const client of clients) client.start();
  cluster.runFor(options.safetyMs ?? defaultSafetyMs);

  faults.stop();
  changer?.stop();
  cluster.network.heal();
  // Raft promises liveness only under its timing requirement (§5.6): messages much faster than the
  // election timeout's random spread, or split votes between equally timed candidates can recur forever.
  const electionSpreadMs = cluster.settings.electionTimeoutMsMax - cluster.settings.electionTimeoutMsMin;
  const liveDelayMsMax = Math.max(2, Math.min(30, Math.floor(electionSpreadMs / 3)));
  cluster.network.setFaults({
    dropRate: 0,
    duplicateRate: 0,
    delayMsMin: Math.min(swarm.faults.delayMsMin, liveDelayMsMax - 1),
    delayMsMax: liveDelayMsMax,
  });
  for (const id of cluster.ids) if (!cluster.isUp(id)) cluster.restart(id);
  cluster.trace.note(cluster.nowMs, "liveness phase: network healed and reliable, every node up");
  const liveness = checkLiveness(cluster, options.livenessBoundMs ?? defaultLivenessBoundMs);
  for (const client of clients) client.stop();
  awaitQuiescence(cluster, { entriesPerRoundTrip: cluster.settings.entriesPerAppendMax, roundTripMsMax: 2 * liveDelayMsMax });
  cluster.checkStateMachinesAgree(members(cluster));

  return {
    seed,
    swarm,
    events: cluster.eventCount,
    virtualMs: cluster.nowMs,
    wallMs: performance.now() - wallStart,
    leaderTerms: cluster.checker.leaders().size,
    committedIndex: cluster.checker.committedIndex,
    readsConfirmed: cluster.reads.confirmed,
    snapshots: cluster.snapshotStats,
    membership: changer === null ? null : { ...changer.stats, committed: committedChanges(cluster) },
    liveness,
  };
}
