import { assert } from "../base/assert.ts";
import type { ReadState } from "./types.ts";

interface PendingRead {
  readonly context: number;
  /** The heartbeat round that must be acknowledged by a majority after the read arrived. */
  readonly round: number;
}

/**
 * Linearizable reads without writing to the log (§8, and the dissertation's
 * ReadIndex, §6.4): a leader serves a read once a majority has acknowledged a
 * heartbeat round sent after the read arrived (so no newer leader existed when
 * it was sent) and it has committed an entry of its own term (so its commit
 * index covers every write completed before the read).
 *
 * Reads arriving in one event-loop turn share one round: one heartbeat to each
 * follower it goes to confirms them all (the leader sends it to no more than
 * a majority needs, Raft.readRoundSpared). One round is in flight at a
 * time: the reads that arrive meanwhile wait for it to be acknowledged and
 * then share the next, so under load the rounds grow rather than multiply
 * (each costs the leader a message to each follower it goes to and an
 * answer from each). Periodic heartbeats carry the current round to every
 * member, so a lost message delays the next round by at most a heartbeat
 * interval.
 */
export class ReadIndexQueue {
  private pending: PendingRead[] = [];
  /** The last round sent to followers. */
  private sentRound = 0;
  private roundWanted = false;

  /** The round carried by every AppendEntries the leader sends now. */
  currentRound(): number {
    return this.sentRound;
  }

  add(context: number): void {
    this.pending.push({ context, round: this.sentRound + 1 });
    this.roundWanted = true;
  }

  /**
   * Whether a new round must be broadcast now: reads arrived since the last
   * one, and a majority has acknowledged that one.
   */
  needsRound(acknowledgedByMajority: (round: number) => boolean): boolean {
    return this.roundWanted && (this.sentRound === 0 || acknowledgedByMajority(this.sentRound));
  }

  /** Starts the round the waiting reads need; returns its number. */
  startRound(): number {
    assert(this.roundWanted, "a read round started with no read waiting for it");
    this.roundWanted = false;
    this.sentRound++;
    return this.sentRound;
  }

  /**
   * Releases, in arrival order, every read whose round a majority has
   * acknowledged. `acknowledgedByMajority(round)` counts the leader itself.
   */
  release(commitIndex: number, acknowledgedByMajority: (round: number) => boolean): ReadState[] {
    const released: ReadState[] = [];
    while (this.pending.length > 0) {
      const read = this.pending[0]!;
      if (read.round > this.sentRound || !acknowledgedByMajority(read.round)) break;
      released.push({ context: read.context, index: commitIndex });
      this.pending.shift();
    }
    return released;
  }

  /** Forgets every pending read (leadership lost); returns their contexts. */
  drain(): number[] {
    const contexts = this.pending.map((read) => read.context);
    this.pending = [];
    this.roundWanted = false;
    return contexts;
  }
}
