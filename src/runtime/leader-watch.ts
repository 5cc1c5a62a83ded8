import type { NodeStatus } from "../raft/index.ts";
import type { PeerContacts } from "./peer-contacts.ts";

export interface LeaderWatchTiming {
  /**
   * A follower that has heard nothing from its leader for this long counts
   * the leader as in doubt (a few heartbeats missed: it may be dead, and an
   * election may follow).
   */
  readonly silenceMs: number;
  /** How long a request is held, at most, for the leadership to settle. */
  readonly holdMs: number;
}

interface Held {
  readonly deadlineMs: number;
  readonly wake: () => void;
}

/**
 * Whether this server knows a live leader, and the requests held until it
 * does. A request that reaches a follower whose leader has gone silent, or a
 * server that knows no leader (an election is under way), is held here and
 * handed back once a leader is known and heard from, so that the client is
 * sent straight to the new leader instead of to the dead one or to a retry
 * after a backoff (docs/protocol.md §5). Nothing is held longer than
 * `holdMs`: a server cut off from the others answers with what it then knows.
 */
export class LeaderWatch {
  private held: Held[] = [];

  constructor(
    private readonly timing: LeaderWatchTiming,
    private readonly capacity: number,
    private readonly contacts: PeerContacts,
  ) {}

  get holding(): boolean {
    return this.held.length > 0;
  }

  /** Whether this server leads, or follows a leader it heard from within the silence bound. */
  isSettled(status: NodeStatus, nowMs: number): boolean {
    return this.contacts.leaderIsLive(status, nowMs, this.timing.silenceMs);
  }

  /** Holds `wake` until the leadership settles or the hold time passes; false (nothing held) when full. */
  hold(nowMs: number, wake: () => void): boolean {
    if (this.held.length >= this.capacity) return false;
    this.held.push({ deadlineMs: nowMs + this.timing.holdMs, wake });
    return true;
  }

  /** Wakes every held request once the leadership settled or `releaseAll` says so, and those past their time. */
  check(status: NodeStatus, nowMs: number, releaseAll: boolean): void {
    if (this.held.length === 0) return;
    if (releaseAll || this.isSettled(status, nowMs)) {
      const woken = this.held;
      this.held = [];
      for (const held of woken) held.wake();
      return;
    }
    // Held in arrival order with one hold time: deadlines are in order too.
    let expired = 0;
    while (expired < this.held.length && (this.held[expired] as Held).deadlineMs <= nowMs) expired += 1;
    if (expired === 0) return;
    const woken = this.held.slice(0, expired);
    this.held = this.held.slice(expired);
    for (const held of woken) held.wake();
  }
}
