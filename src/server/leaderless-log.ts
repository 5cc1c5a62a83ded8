import type { Logger } from "../base/logger.ts";
import type { NodeId, NodeStatus } from "../raft/index.ts";
import { seconds } from "./log-numbers.ts";
import type { PeerContacts } from "../runtime/peer-contacts.ts";

export interface LeaderlessLogTiming {
  /** A leader not heard from for this long is taken for gone (as the leader watch takes it, docs/protocol.md §5). */
  readonly leaderSilenceMs: number;
  /** No leader for this long is worth a line: longer than an ordinary election. */
  readonly reportAfterMs: number;
  /** A server heard from within this window answers. */
  readonly answerWindowMs: number;
  /** While there is still no leader, a summary this often. */
  readonly summaryEveryMs: number;
}

/**
 * One line when this server has had no live leader for longer than an
 * election takes, saying why in the terms an operator can act on (how many
 * servers answer, how many a majority needs); a summary every
 * `summaryEveryMs` while it lasts; one line when a leader is back. Each
 * campaign attempt is the core's, at debug: without a majority they repeat
 * every election timeout (Raft paper §5.2), which at info would bury
 * everything else. The voters are those of the configuration in force
 * (dissertation §4.1); a server that is none (a learner, one removed, one
 * waiting to be added) elects nobody, and says nothing here.
 */
export class LeaderlessLog {
  /** Since when no live leader is known, and when that was last reported; null while a leader is. */
  private leaderless: { readonly sinceMs: number; reportedAtMs: number | null } | null = null;

  constructor(
    private readonly timing: LeaderlessLogTiming,
    private readonly contacts: PeerContacts,
    private readonly logger: Logger,
  ) {}

  check(status: NodeStatus, voters: readonly NodeId[], nowMs: number): void {
    if (!voters.includes(status.id)) {
      this.leaderless = null;
      return;
    }
    if (this.contacts.leaderIsLive(status, nowMs, this.timing.leaderSilenceMs)) {
      if (this.leaderless !== null && this.leaderless.reportedAtMs !== null) {
        const leader = status.leaderId === status.id ? "this server" : `server ${status.leaderId}`;
        this.logger.info(`leader: ${leader} (term ${status.term}), after ${seconds(nowMs - this.leaderless.sinceMs)} without one`);
      }
      this.leaderless = null;
      return;
    }
    this.leaderless ??= { sinceMs: nowMs, reportedAtMs: null };
    const { sinceMs, reportedAtMs } = this.leaderless;
    if (reportedAtMs === null ? nowMs - sinceMs < this.timing.reportAfterMs : nowMs - reportedAtMs < this.timing.summaryEveryMs) return;
    this.leaderless.reportedAtMs = nowMs;
    const head = reportedAtMs === null ? `no leader for ${seconds(nowMs - sinceMs)}` : `still no leader after ${seconds(nowMs - sinceMs)}`;
    this.logger.info(`${head} (term ${status.term}): ${this.answering(voters, status.id, nowMs)}`);
  }

  /** "2 of 5 servers answer (2, 5); a majority needs 3", or "… answer: electing a leader" when enough do. */
  private answering(voters: readonly NodeId[], self: NodeId, nowMs: number): string {
    const answer = [...voters].sort((a, b) => a - b).filter((id) => id === self || this.contacts.heardWithin(id, nowMs, this.timing.answerWindowMs));
    const majority = Math.floor(voters.length / 2) + 1;
    const counted = `${answer.length} of ${voters.length} servers answer (${answer.join(", ")})`;
    return answer.length < majority ? `${counted}; a majority needs ${majority}` : `${counted}: electing a leader`;
  }
}
