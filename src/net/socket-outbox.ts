/**
 * Messages waiting to go out on one ZeroMQ socket. ZeroMQ allows a single
 * send in progress per socket, so messages queue here while one is in
 * flight, and callers return at once. The queue is bounded: past
 * `capacity`, push() refuses.
 *
 * An idle outbox starts sending inside push(): zeromq hands a message to
 * libzmq synchronously when the socket can take it, so it is on its way
 * before the caller's next step. (The peer transport needs no outbox: its
 * PUB socket never waits, so it sends every message inside the call.)
 */
export class SocketOutbox {
  private queue: Uint8Array[][] = [];
  /** The sends in progress, until the queue is empty; null when idle. */
  private draining: Promise<void> | null = null;
  private closing = false;

  constructor(
    private readonly send: (frames: Uint8Array[]) => Promise<void>,
    private readonly onSendError: (error: unknown) => void,
    private readonly capacity = Number.POSITIVE_INFINITY,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /** Queues one message, sending it at once when nothing is in flight; false (and nothing queued) when full or closed. */
  push(frames: Uint8Array[]): boolean {
    if (this.closing || this.queue.length >= this.capacity) return false;
    this.queue.push(frames);
    this.draining ??= this.drain();
    return true;
  }

  /** Stops taking messages, and resolves once what is queued is sent (`flush`) or dropped at once. */
  async close(flush: boolean): Promise<void> {
    this.closing = true;
    if (!flush) this.queue = [];
    await this.draining;
  }

  /** Sends until the queue is empty. It always awaits a send before it ends, so `draining` is set before it is cleared. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      for (const frames of batch) {
        try {
          await this.send(frames);
        } catch (error) {
          this.onSendError(error);
        }
      }
    }
    this.draining = null;
  }
}
