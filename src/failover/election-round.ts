/**
 * One measurement of `bench:election`, as the Raft paper's §9.3 measures
 * for Figure 16 of its extended version: the leader of a settled cluster
 * is killed at a random moment within a heartbeat interval, and the time
 * without a leader runs from the kill until a majority of the cluster
 * names one new leader in a later term (status sampled every 5 ms on the
 * survivors). Then the killed server is started again and caught up, so
 * that every round begins from the same five-server cluster.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "../local-cluster/index.ts";
import { findSettledLeader, waitUntilCaughtUp, type ClusterTarget } from "./cluster-target.ts";
import { ElectionWatch } from "./election-watch.ts";
import { StatusPoller } from "./status-poller.ts";

export interface ElectionSample {
  /** Kill to a majority naming the new leader, in ms. */
  readonly withoutLeaderMs: number;
  readonly from: number;
  readonly to: number;
  readonly termBefore: number;
  readonly termAfter: number;
}

/** Time for the poller's sockets to connect before the kill. */
const pollerWarmUpMs = 30;

export async function measureElection(target: ClusterTarget, random: () => number): Promise<ElectionSample> {
  const leader = await findSettledLeader(target);
  const survivors = target.serverIds.filter((id) => id !== leader.id);
  const watch = new ElectionWatch(leader.term, target.serverIds.length);
  let killedAtMs: number | undefined;
  const poller = new StatusPoller(target.config, target.curve, survivors, (status, atMs) => {
    if (killedAtMs !== undefined) watch.observe({ atMs: atMs - killedAtMs, id: status.id, role: status.role, term: status.term, leaderId: status.leaderId });
  });
  let elected;
  try {
    // A crash strikes at any point of the heartbeat cycle, not just after a heartbeat.
    await sleep(pollerWarmUpMs + random() * target.config.heartbeatMs);
    killedAtMs = performance.now();
    const exited = target.kill(leader.id, leader.pid);
    elected = await waitFor(() => watch.knownByMajority, { timeoutMs: 30_000, intervalMs: 2, what: "a new leader named by a majority" });
    await exited;
  } finally {
    await poller.stop();
  }
  await target.restart(leader.id);
  await waitUntilCaughtUp(target, leader.id);
  return { withoutLeaderMs: elected.atMs, from: leader.id, to: elected.id, termBefore: leader.term, termAfter: elected.term };
}
