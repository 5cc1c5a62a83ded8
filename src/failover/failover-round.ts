/**
 * One round of `demo:failover`: writers running against a settled leader,
 * the fault at t=0, then the timeline read off status samples taken every
 * 5 ms and the writers' acknowledgements (first server campaigning, new
 * leader, first write acknowledged again), then the fault undone, the
 * server caught up, and every acknowledged write read back. A forwarder's
 * loss should cause no election: that round watches for several election
 * timeouts instead, and measures the longest pause in acknowledged writes.
 */
import type { ZraftClient } from "../client/zraft-client.ts";
import { waitFor } from "../local-cluster/index.ts";
import { allStatuses, findSettledLeader, waitUntilCaughtUp, type ClusterTarget } from "./cluster-target.ts";
import { ElectionWatch } from "./election-watch.ts";
import type { FailoverMode } from "./failover-options.ts";
import { injectFault } from "./faults.ts";
import { StatusPoller } from "./status-poller.ts";
import { verifyWrites } from "./verify-writes.ts";
import { WriterPool } from "./writers.ts";

export interface RoundResult {
  readonly round: number;
  readonly mode: FailoverMode;
  readonly fault: string;
  readonly oldLeader: { readonly id: number; readonly term: number };
  /** ms after the fault; absent when not seen. */
  readonly firstCandidate?: { readonly ms: number; readonly id: number; readonly term: number };
  readonly newLeader?: { readonly ms: number; readonly id: number; readonly term: number };
  /** When a majority first named the new leader. */
  readonly leaderKnownByMajorityMs?: number;
  /** When the first write was acknowledged by a server in a later term: the end of unavailability. */
  readonly firstWriteMs?: number;
  /** Forwarder rounds: the longest time without an acknowledged write after the fault, and in as long just before it. */
  readonly pauses?: { readonly afterFaultMs: number; readonly beforeFaultMs: number };
  readonly healed?: string;
  readonly catchUpMs?: number;
  readonly writesAcknowledged: number;
  readonly writesUnknown: number;
  readonly keysChecked: number;
  readonly lost: number;
  readonly lostKeys: ReadonlyArray<{ readonly key: string; readonly expected: string; readonly read: unknown }>;
  /** What went wrong in the round besides lost writes (the fault refused, a timeline incomplete …). */
  readonly problems: readonly string[];
}

export interface RoundSettings {
  readonly mode: FailoverMode;
  readonly writers: number;
  /** Keys of this run start with it, so that runs on one cluster do not mix. */
  readonly keyPrefix: string;
  readonly random: () => number;
}

/**
 * Writers' timing: a silent server is given up on after 250 ms, and retries
 * come quickly, so the client adds little to the measured unavailability
 * (the library's 1000 ms default would dominate it).
 */
const writerTiming = { requestTimeoutMs: 250, deadlineMs: 30_000, backoffMsMin: 10, backoffMsMax: 100 } as const;
const verifyTiming = { requestTimeoutMs: 1_000, deadlineMs: 30_000 } as const;
/** How long the writers write to the settled leader before the fault. */
const preFaultWritingMs = 500;
/** A round whose new leader or first write has not come by then is reported as such. */
const timelineTimeoutMs = 20_000;

export async function runRound(target: ClusterTarget, settings: RoundSettings, round: number): Promise<RoundResult> {
  const problems: string[] = [];
  const clients: ZraftClient[] = Array.from({ length: settings.writers }, () => target.client(writerTiming));
  const verifier = target.client(verifyTiming);
  const pool = new WriterPool(clients, `${settings.keyPrefix}/r${round}`);
  let poller: StatusPoller | undefined;
  try {
    await waitFor(() => pool.acknowledged >= settings.writers, { timeoutMs: 30_000, what: "the writers' first acknowledgements" });
    const leader = await findSettledLeader(target);
    const statuses = await allStatuses(target);
    const followers = statuses.filter((status) => status.id !== leader.id && status.term === leader.term && status.leaderId === leader.id).map((status) => status.id);

    const watch = new ElectionWatch(leader.term, target.serverIds.length);
    let faultAtMs: number | undefined;
    // Started before the fault, so that every socket is connected when it strikes.
    poller = new StatusPoller(target.config, target.curve, target.serverIds, (status, atMs) => {
      if (faultAtMs !== undefined) watch.observe({ atMs: atMs - faultAtMs, id: status.id, role: status.role, term: status.term, leaderId: status.leaderId });
    });
    // Writing for a while first, so that the fault strikes with writes in flight and a log that has grown.
    await new Promise((resolve) => setTimeout(resolve, preFaultWritingMs));

    const fault = injectFault(settings.mode, target, leader, followers, settings.random);
    faultAtMs = fault.atMs;
    let pauses: RoundResult["pauses"];
    if (settings.mode === "forwarder") {
      // Long enough for any follower that lost touch with the leader to have campaigned.
      const watchedMs = 2 * target.config.electionTimeoutMs[1] + 500;
      await new Promise((resolve) => setTimeout(resolve, watchedMs));
      const candidate = watch.firstCandidate;
      if (candidate !== undefined) problems.push(`server ${candidate.id} campaigned for term ${candidate.term} ${Math.round(candidate.atMs)} ms after the forwarder's loss`);
      pauses = {
        afterFaultMs: pool.longestPause(fault.atMs, fault.atMs + watchedMs),
        beforeFaultMs: pool.longestPause(fault.atMs - preFaultWritingMs, fault.atMs),
      };
    } else {
      try {
        await waitFor(() => watch.newLeader !== undefined && pool.firstAckAfter(fault.atMs, leader.term) !== undefined, {
          timeoutMs: timelineTimeoutMs,
          intervalMs: 5,
          what: "a new leader and a write acknowledged in its term",
        });
        // The majority's view lags the leader's own by a heartbeat at most.
        await waitFor(() => watch.knownByMajority !== undefined, { timeoutMs: 2_000, intervalMs: 5 }).catch(() => undefined);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    await poller.stop();
    poller = undefined;
    const failure = await fault.outcome;
    if (failure !== undefined) problems.push(`${fault.description}: ${failure}`);
    const firstAck = pool.firstAckAfter(fault.atMs, leader.term);

    const healed = await fault.heal();
    const catchUpMs = await waitUntilCaughtUp(target, leader.id);
    await pool.stop();
    const verification = await verifyWrites(verifier, pool.keys);
    const { firstCandidate, newLeader, knownByMajority } = watch;
    return {
      round,
      mode: settings.mode,
      fault: fault.description,
      oldLeader: { id: leader.id, term: leader.term },
      ...(firstCandidate === undefined ? {} : { firstCandidate: { ms: firstCandidate.atMs, id: firstCandidate.id, term: firstCandidate.term } }),
      ...(newLeader === undefined ? {} : { newLeader: { ms: newLeader.atMs, id: newLeader.id, term: newLeader.term } }),
      ...(knownByMajority === undefined ? {} : { leaderKnownByMajorityMs: knownByMajority.atMs }),
      ...(firstAck === undefined ? {} : { firstWriteMs: firstAck.atMs - fault.atMs }),
      ...(pauses === undefined ? {} : { pauses }),
      ...(healed === undefined ? {} : { healed }),
      catchUpMs,
      writesAcknowledged: pool.acknowledged,
      writesUnknown: pool.failures,
      keysChecked: verification.checked,
      lost: verification.lost.length,
      lostKeys: verification.lost,
      problems,
    };
  } finally {
    await poller?.stop();
    await pool.stop();
    for (const client of [...clients, verifier]) client.close();
  }
}
