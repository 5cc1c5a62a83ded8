import type { Logger } from "../base/logger.ts";
import type { LogIndex, NodeStatus } from "../raft/index.ts";
import { entries, seconds } from "./log-numbers.ts";

/**
 * A starting server's one line on joining the cluster: once it follows a
 * leader and has applied everything that leader announced as committed, it
 * has caught up, and says from where and how long it took. Silent when it
 * becomes the leader itself (it had nothing to catch up on).
 */
export class CatchUpLog {
  private done = false;

  constructor(
    /** What the replay at start-up applied. */
    private readonly replayedIndex: LogIndex,
    private readonly startedMs: number,
    private readonly logger: Logger,
  ) {}

  /** `leaderCommitIndex`: RaftNode.leaderCommitIndex; `status.lastApplied` the state machine's. */
  check(status: NodeStatus, leaderCommitIndex: LogIndex, nowMs: number): void {
    if (this.done) return;
    if (status.role === "leader") {
      this.done = true;
      return;
    }
    if (status.leaderId === null || leaderCommitIndex === 0 || status.lastApplied < leaderCommitIndex) return;
    this.done = true;
    this.logger.info(
      `caught up with the leader, server ${status.leaderId}: applied up to ${status.lastApplied}, ` +
        `${entries(status.lastApplied - this.replayedIndex)} after the replay, ${seconds(nowMs - this.startedMs)} after start`,
    );
  }
}
