/**
 * The session writes this leader has proposed and not yet settled, by
 * `client` and `seq`, with everyone waiting for each. A client that gave up
 * waiting sends the same write again (docs/protocol.md §9); while the first
 * is still in flight, the retry waits for the same entry instead of
 * proposing another. Sessions (dissertation §6.3) make a second entry
 * harmless, not free: under overload, when replies come late and clients
 * time out, every retry would add an entry to a log already behind.
 *
 * Bounded by the requests in progress: one entry per pending proposal, one
 * waiter per request the client endpoint holds.
 */
export class InFlightWrites<Waiter> {
  readonly #waiters = new Map<string, Waiter[]>();

  /** Writes in flight. */
  get size(): number {
    return this.#waiters.size;
  }

  /**
   * Adds `waiter` to the write of `client` and `seq`: true when that write
   * is already in flight (it joined it), false when it is new (the caller
   * proposes it, and calls take() once it settles).
   */
  join(client: string, seq: number, waiter: Waiter): boolean {
    const key = keyOf(client, seq);
    const waiters = this.#waiters.get(key);
    if (waiters !== undefined) {
      waiters.push(waiter);
      return true;
    }
    this.#waiters.set(key, [waiter]);
    return false;
  }

  /** Everyone waiting for the write of `client` and `seq`, which has settled; it is no longer in flight. */
  take(client: string, seq: number): readonly Waiter[] {
    const key = keyOf(client, seq);
    const waiters = this.#waiters.get(key) ?? [];
    this.#waiters.delete(key);
    return waiters;
  }
}

/** Unambiguous whatever the client id holds. */
const keyOf = (client: string, seq: number): string => JSON.stringify([client, seq]);
