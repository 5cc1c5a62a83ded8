/**
 * The order of one storage's writes (LmdbStorage, WalStorage). A write runs
 * at once unless it must wait: it reads what the writes before it leave, or
 * one queued before it waits. A write that waits runs once every earlier
 * write has settled, and every later one waits behind it. Writes settle in
 * call order, a refusal included.
 */
export class WriteOrder {
  #last: Promise<unknown> = Promise.resolve();
  #waiting: Promise<unknown> | null = null;

  /** Settles (never rejects) once every write queued so far has. */
  get settled(): Promise<unknown> {
    return this.#last;
  }

  /**
   * Runs `write` now, or later as the class says, calling `beforeLate`
   * first when it waited (it throws to refuse the write then). A rejection
   * goes through `mapFailure`, whose result is the returned promise's.
   */
  queue(waits: boolean, write: () => Promise<unknown>, beforeLate: () => void, mapFailure: (error: unknown) => Promise<never>): Promise<void> {
    let written: Promise<unknown>;
    if (this.#waiting === null && !waits) {
      try {
        written = write();
      } catch (error) {
        // Refused in call order: a later write that waits must not overtake the writes still in flight.
        written = this.#last.then(() => Promise.reject(error));
      }
    } else {
      const waited = this.#last.then(() => {
        beforeLate();
        return write();
      });
      this.#waiting = waited;
      void waited
        .finally(() => {
          if (this.#waiting === waited) this.#waiting = null;
        })
        .catch(() => undefined);
      written = waited;
    }
    const saved = written.then(() => undefined, mapFailure);
    this.#last = saved.catch(() => undefined);
    return saved;
  }
}
