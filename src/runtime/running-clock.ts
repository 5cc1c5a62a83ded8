/**
 * The clock a server's timers run on (docs/architecture.md §3): monotonic
 * milliseconds of the time the process was running. A gap between two
 * readings longer than `gapMsMax` counts as `gapMsMax`: the process was
 * frozen (the machine or its disk stalled, a synchronous write blocked the
 * event loop, SIGSTOP), and while frozen it could not hear its leader.
 *
 * Counted in full, such a gap expires every frozen follower's election
 * timeout at once. On resuming, the ticker runs before the messages that
 * waited (timers come first in Node's event loop), so each follower asks
 * for votes before it reads its leader's heartbeat, and PreVote grants them,
 * since no one heard from the leader within its timeout either. Measured on
 * this two-core machine: under 128 clients every server's event loop froze
 * for 80–350 ms every few seconds, within 100 ms of one another, and the
 * leader changed every 15–40 s. With gaps cut short an election timeout
 * measures the leader's silence while this server listened (§5.2 of the
 * Raft paper; the dissertation's §9.6 on elections that disrupt).
 *
 * A leader that dies during the freeze is found out later by at most the
 * freeze; nothing depends on this clock for safety (zraft takes no leases).
 */
export class RunningClock {
  #lastSourceMs: number;
  #nowMs: number;

  constructor(
    private readonly source: () => number,
    private readonly gapMsMax: number,
  ) {
    this.#lastSourceMs = source();
    this.#nowMs = this.#lastSourceMs;
  }

  nowMs(): number {
    const sourceMs = this.source();
    this.#nowMs += Math.min(Math.max(0, sourceMs - this.#lastSourceMs), this.gapMsMax);
    this.#lastSourceMs = sourceMs;
    return this.#nowMs;
  }
}
