import type { Logger } from "../base/logger.ts";
import type { FollowerProgress, LogIndex, NodeId, NodeStatus } from "../raft/index.ts";
import { entries, seconds } from "./log-numbers.ts";

/** What the leader last said about one follower. */
type FollowerState =
  | { readonly kind: "in step" }
  /** Not heard from since `lastHeardMs` (null: never in this leadership), when it held the log up to `matchIndex`. */
  | { readonly kind: "silent"; readonly lastHeardMs: number | null; readonly matchIndex: LogIndex }
  /** Back, and being sent the entries up to `targetIndex` that it missed. */
  | { readonly kind: "catching up"; readonly targetIndex: LogIndex; readonly missed: number; readonly sinceMs: number };

/**
 * The leader's account of its followers, at the moments an operator cares
 * about: one that has gone silent (warn: the cluster has less to spare),
 * one that is back and how far behind, and when it has caught up. Nothing
 * while every follower keeps answering. Reads the core's view of each
 * follower (RaftNode.followers); the times are the server's clock, which
 * also drives the core's ticks.
 */
export class FollowerLog {
  private readonly states = new Map<NodeId, FollowerState>();
  /** Since when each follower is one in this leadership: the leadership's start, or when a change added it (dissertation §4.2.1). */
  private readonly followingSinceMs = new Map<NodeId, number>();
  /** The term this server leads and since when; null when it does not lead. */
  private leadership: { readonly term: number; readonly sinceMs: number } | null = null;

  constructor(
    /** A follower not heard from for this long has gone silent. */
    private readonly silentAfterMs: number,
    private readonly logger: Logger,
  ) {}

  check(status: NodeStatus, followers: readonly FollowerProgress[], nowMs: number): void {
    if (status.role !== "leader") {
      this.leadership = null;
      return;
    }
    if (this.leadership?.term !== status.term) {
      this.leadership = { term: status.term, sinceMs: nowMs };
      this.states.clear();
      this.followingSinceMs.clear();
    }
    // A server the configuration removed is no follower any more; one added later is one from then on.
    for (const id of this.followingSinceMs.keys()) {
      if (followers.some((follower) => follower.id === id)) continue;
      this.followingSinceMs.delete(id);
      this.states.delete(id);
    }
    for (const follower of followers) {
      if (!this.followingSinceMs.has(follower.id)) this.followingSinceMs.set(follower.id, nowMs);
      this.checkOne(follower, status.lastLogIndex, this.leadership.sinceMs, nowMs);
    }
  }

  private checkOne(follower: FollowerProgress, lastLogIndex: LogIndex, leaderSinceMs: number, nowMs: number): void {
    const { id, matchIndex, lastHeardMs } = follower;
    const state = this.states.get(id) ?? { kind: "in step" };
    const followingSinceMs = this.followingSinceMs.get(id) as number;
    const heardSinceMs = lastHeardMs ?? followingSinceMs;
    if (state.kind !== "silent") {
      if (nowMs - heardSinceMs > this.silentAfterMs) {
        const since = followingSinceMs === leaderSinceMs ? "this server became leader" : "it was added";
        this.logger.warn(
          lastHeardMs === null
            ? `server ${id} has not answered since ${since} ${seconds(nowMs - heardSinceMs)} ago`
            : `server ${id} has gone silent: last heard ${seconds(nowMs - lastHeardMs)} ago`,
        );
        this.states.set(id, { kind: "silent", lastHeardMs, matchIndex });
      } else if (state.kind === "catching up" && matchIndex >= state.targetIndex) {
        this.logger.info(`server ${id} caught up: ${entries(state.missed)} in ${seconds(nowMs - state.sinceMs)}`);
        this.states.set(id, { kind: "in step" });
      }
      return;
    }
    if (lastHeardMs === null || lastHeardMs === state.lastHeardMs) return;
    // What it missed, from what it held when it went silent: by this check its first answers may have been
    // acknowledged already. Before its first answer in this term the leader does not know what it holds: at most this.
    const missed = lastLogIndex - state.matchIndex;
    const lastHeard = state.lastHeardMs === null ? "not heard from before in this term" : `last heard ${seconds(lastHeardMs - state.lastHeardMs)} ago`;
    const missedEntries = `${state.lastHeardMs === null ? "at most " : ""}${entries(missed)}`;
    if (missed === 0) {
      this.logger.info(`server ${id} is back (${lastHeard}), in step`);
      this.states.set(id, { kind: "in step" });
    } else if (matchIndex >= lastLogIndex) {
      this.logger.info(`server ${id} is back (${lastHeard}) and has already caught up: ${missedEntries}`);
      this.states.set(id, { kind: "in step" });
    } else {
      this.logger.info(`server ${id} is back (${lastHeard}), ${missedEntries} behind`);
      this.states.set(id, { kind: "catching up", targetIndex: lastLogIndex, missed, sinceMs: nowMs });
    }
  }
}
