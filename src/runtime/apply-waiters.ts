/** A request held until the state machine applies more entries. */
interface ApplyWaiter {
  readonly deadlineMs: number;
  /** Asked after each batch applied whether it is done; asked `final` once when its time is up or the server stops. */
  readonly check: (final: boolean) => boolean;
}

/**
 * Requests that wait for this server's state machine to move on: a watch
 * with nothing to report yet (docs/protocol.md §4) is held here instead of
 * answered empty, and asked again after every batch of entries applied, so
 * that it is answered as soon as a change it wants is applied. Each has its
 * own deadline, so expiry sweeps them all; the client endpoint's limits on
 * requests in progress bound how many there are.
 */
export class ApplyWaiters {
  #waiting: ApplyWaiter[] = [];

  add(deadlineMs: number, check: (final: boolean) => boolean): void {
    this.#waiting.push({ deadlineMs, check });
  }

  /** Entries were applied: asks every waiter, and keeps those not done. */
  applied(): void {
    const asked = this.#waiting;
    this.#waiting = [];
    for (const waiter of asked) if (!waiter.check(false)) this.#waiting.push(waiter);
  }

  /** Ends the waits whose deadline has come. */
  expire(nowMs: number): void {
    this.#end((waiter) => waiter.deadlineMs <= nowMs);
  }

  /** Ends every wait: the server stops. */
  endAll(): void {
    this.#end(() => true);
  }

  #end(ends: (waiter: ApplyWaiter) => boolean): void {
    const ended: ApplyWaiter[] = [];
    const kept: ApplyWaiter[] = [];
    for (const waiter of this.#waiting) (ends(waiter) ? ended : kept).push(waiter);
    if (ended.length === 0) return;
    this.#waiting = kept;
    for (const waiter of ended) waiter.check(true);
  }
}
