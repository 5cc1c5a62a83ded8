/**
 * A discrete-event loop on a virtual clock. Events wait in a binary heap
 * ordered by (time, sequence number): two events due at the same virtual
 * millisecond run in the order they were scheduled, so a run depends on
 * nothing but its seed.
 */

interface QueuedEvent<E> {
  readonly atMs: number;
  readonly sequence: number;
  readonly event: E;
}

function runsBefore<E>(a: QueuedEvent<E>, b: QueuedEvent<E>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.sequence < b.sequence);
}

/** A min-heap of events keyed by (atMs, sequence). */
export class EventQueue<E> {
  private readonly heap: QueuedEvent<E>[] = [];
  private sequence = 0;

  get size(): number {
    return this.heap.length;
  }

  push(atMs: number, event: E): void {
    const heap = this.heap;
    const item: QueuedEvent<E> = { atMs, sequence: this.sequence++, event };
    let position = heap.length;
    heap.push(item);
    while (position > 0) {
      const parent = (position - 1) >> 1;
      const above = heap[parent]!;
      if (!runsBefore(item, above)) break;
      heap[position] = above;
      position = parent;
    }
    heap[position] = item;
  }

  /** The time of the next event, or Infinity when the queue is empty. */
  peekTimeMs(): number {
    return this.heap[0]?.atMs ?? Infinity;
  }

  pop(): QueuedEvent<E> | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let position = 0;
    for (;;) {
      const left = 2 * position + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && runsBefore(heap[right]!, heap[left]!) ? right : left;
      if (!runsBefore(heap[child]!, last)) break;
      heap[position] = heap[child]!;
      position = child;
    }
    heap[position] = last;
    return top;
  }
}

/**
 * The virtual clock and its event queue. `run` hands each due event to the
 * handler; the handler may schedule more. Time never goes backwards.
 */
export class Simulator<E> {
  private readonly queue = new EventQueue<E>();
  private clockMs = 0;
  private handled = 0;

  constructor(private readonly handle: (event: E) => void) {}

  get nowMs(): number {
    return this.clockMs;
  }

  /** Events handled since the start. */
  get eventCount(): number {
    return this.handled;
  }

  get pendingCount(): number {
    return this.queue.size;
  }

  /** Schedules `event` `delayMs` from now (0 = after everything already due now). */
  schedule(delayMs: number, event: E): void {
    if (!(delayMs >= 0)) throw new RangeError(`cannot schedule an event ${delayMs} ms in the past`);
    this.queue.push(this.clockMs + delayMs, event);
  }

  /** Runs the next event if it is due by `endMs`; returns whether one ran. */
  step(endMs: number): boolean {
    if (this.queue.peekTimeMs() > endMs) return false;
    const next = this.queue.pop()!;
    this.clockMs = next.atMs;
    this.handled++;
    this.handle(next.event);
    return true;
  }

  /** Runs every event due by `endMs`, then sets the clock to `endMs`. */
  runUntil(endMs: number): void {
    while (this.step(endMs));
    if (endMs > this.clockMs && Number.isFinite(endMs)) this.clockMs = endMs;
  }

  /**
   * Runs events until `done()` holds (checked before each event) or the clock
   * passes `endMs`. Returns whether `done()` held.
   */
  runUntilTrue(done: () => boolean, endMs: number): boolean {
    for (;;) {
      if (done()) return true;
      if (!this.step(endMs)) {
        if (endMs > this.clockMs) this.clockMs = endMs;
        return done();
      }
    }
  }
}
