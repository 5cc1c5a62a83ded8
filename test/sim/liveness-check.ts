import type { Entry, Membership, NodeId } from "../../src/raft/index.ts";
import { sameEntry } from "./checkers.ts";
import { clientCommand } from "./sim-client.ts";
import type { SimCluster } from "./sim-cluster.ts";

/** When each step of recovery was reached, in virtual ms after the check began. */
export interface LivenessResult {
  readonly committedAfterMs: number;
  readonly convergedAfterMs: number;
}

/**
 * The members of the configuration in force at the leader (dissertation
 * §4.1), voters and learners; every server while none leads. A server a
 * change removed is no member: it need not catch up.
 */
export function members(cluster: SimCluster): readonly NodeId[] {
  const configuration = cluster.configuration();
  return configuration === null ? cluster.ids : [...configuration.voters, ...configuration.learners];
}

/** Whether a majority of the configuration's voters hold what `holds` says. */
const onMajority = ({ voters }: Membership, holds: (id: NodeId) => boolean): boolean => voters.filter(holds).length >= Math.floor(voters.length / 2) + 1;

/** How often the check looks for a leader to propose its probe to. */
const probeEveryMs = 20;

/**
 * The liveness checker. Call it once the world is healthy (network healed,
 * every node up, nothing lost): within `boundMs` of virtual time a leader
 * must be elected, a probe command proposed to it must commit on a majority
 * of the voters of its configuration, and then every member must commit and
 * apply it. A probe lost with a leader is proposed again to the next one.
 */
export function checkLiveness(cluster: SimCluster, boundMs: number): LivenessResult {
  const startMs = cluster.nowMs;
  const probes: Entry[] = [];
  let committed: Entry | null = null;
  let running = true;

  // A node that committed the probe's index holds the entry committed there (commit safety checks that), even once a
  // snapshot replaced it in its log (dissertation ch. 5).
  const holds = (id: NodeId, probe: Entry): boolean => {
    const status = cluster.status(id);
    const committed = cluster.checker.committedEntry(probe.index);
    return status !== null && status.commitIndex >= probe.index && committed !== undefined && sameEntry(committed, probe);
  };
  const committedOnMajority = (): Entry | null => {
    const configuration = cluster.configuration();
    return configuration === null ? null : (probes.find((probe) => onMajority(configuration, (id) => holds(id, probe))) ?? null);
  };

  const proposeProbe = (): void => {
    if (!running) return;
    const leader = cluster.leader();
    const term = leader === null ? 0 : cluster.status(leader)!.term;
    if (leader !== null && !probes.some((probe) => probe.term === term)) {
      const data = clientCommand("liveness-probe", probes.length + 1);
      const result = cluster.propose(leader, data);
      if (result.ok) {
        probes.push({ index: result.index, term: result.term, type: "command", data });
        cluster.trace.note(cluster.nowMs, `liveness probe ${probes.length} proposed at node ${leader}: (${result.index},${result.term})`);
      }
    }
    cluster.schedule(probeEveryMs, proposeProbe);
  };
  proposeProbe();

  const fail = (what: string): never =>
    cluster.fail(
      "liveness",
      `${what} within ${boundMs}ms of a healthy network (${probes.length} probes proposed)\n${cluster.describeServers().join("\n")}`,
    );

  const deadline = startMs + boundMs;
  if (!cluster.runUntil(() => (committed = committedOnMajority()) !== null, deadline - cluster.nowMs)) {
    running = false;
    fail("no command committed on a majority");
  }
  running = false;
  const committedAfterMs = cluster.nowMs - startMs;
  const probe: Entry = committed!;
  const converged = (): boolean => members(cluster).every((id) => holds(id, probe) && cluster.lastApplied(id) >= probe.index);
  if (!cluster.runUntil(converged, deadline - cluster.nowMs)) fail(`not every member committed and applied the probe at index ${probe.index}`);
  return { committedAfterMs, convergedAfterMs: cluster.nowMs - startMs };
}

