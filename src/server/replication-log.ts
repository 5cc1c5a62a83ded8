import type { Logger } from "../base/logger.ts";
import type { ClusterConfig } from "../config/cluster-config.ts";
import type { FollowerProgress, LogIndex, Membership, NodeStatus } from "../raft/index.ts";
import { CatchUpLog } from "./catch-up-log.ts";
import { FollowerLog } from "./follower-log.ts";
import { LeaderlessLog } from "./leaderless-log.ts";
import type { PeerContacts } from "../runtime/peer-contacts.ts";

/** What the replication log reads, each time it looks. */
export interface ReplicationView {
  /** The core's status with the state machine's applied index (RaftServer.status). */
  status(): NodeStatus;
  followers(): readonly FollowerProgress[];
  leaderCommitIndex(): LogIndex;
  /** The configuration in force: whose majority elects a leader. */
  membership(): Membership;
}

/** How often the server looks: often enough for times to the tenth of a second. */
export const replicationCheckEveryMs = 100;

/**
 * The server's log of the cluster's state changes that the core cannot see
 * for lack of a clock: this server catching up after its start, a cluster
 * without a leader, and, on the leader, followers going silent, coming back
 * and catching up. Checked every replicationCheckEveryMs from the server's
 * timer; logs only when something changed.
 */
export class ReplicationLog {
  private readonly catchUp: CatchUpLog;
  private readonly leaderless: LeaderlessLog;
  private readonly followers: FollowerLog;

  constructor(
    cluster: ClusterConfig,
    leaderSilenceMs: number,
    replay: { readonly appliedIndex: LogIndex; readonly startedMs: number },
    private readonly view: ReplicationView,
    contacts: PeerContacts,
    logger: Logger,
  ) {
    const electionTimeoutMaxMs = cluster.electionTimeoutMs[1];
    this.catchUp = new CatchUpLog(replay.appliedIndex, replay.startedMs, logger);
    // An ordinary election ends within a few election timeouts: only a longer gap is news.
    const timing = {
      leaderSilenceMs,
      reportAfterMs: Math.max(1_000, 3 * electionTimeoutMaxMs),
      answerWindowMs: Math.max(1_000, 2 * electionTimeoutMaxMs),
      summaryEveryMs: 10_000,
    };
    this.leaderless = new LeaderlessLog(timing, contacts, logger);
    // Followers answer every heartbeat: a few election timeouts of silence is no hiccup.
    this.followers = new FollowerLog(Math.max(1_000, 4 * electionTimeoutMaxMs), logger);
  }

  check(nowMs: number): void {
    const status = this.view.status();
    this.catchUp.check(status, this.view.leaderCommitIndex(), nowMs);
    this.leaderless.check(status, this.view.membership().voters, nowMs);
    this.followers.check(status, this.view.followers(), nowMs);
  }
}
