/**
 * Messages waiting to go out on one ZeroMQ socket. ZeroMQ allows a single
 * send in progress per socket, so one loop drains the queue while callers
 * return at once. The queue is bounded: past `capacity`, push() refuses.
 */
export class SocketOutbox {
  private queue: Uint8Array[][] = [];
  private wake: (() => void) | null = null;
  private closing = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly send: (frames: Uint8Array[]) => Promise<void>,
    private readonly onSendError: (error: unknown) => void,
    private readonly capacity = Number.POSITIVE_INFINITY,
  ) {
    this.done = this.loop();
  }

  get size(): number {
    return this.queue.length;
  }

  /** Queues one message; false (and nothing queued) when full or closed. */
  push(frames: Uint8Array[]): boolean {
    if (this.closing || this.queue.length >= this.capacity) return false;
    this.queue.push(frames);
    this.wake?.();
    return true;
  }

  /** Stops the loop once it has sent what is queued (`flush`) or at once, dropping it. */
  async close(flush: boolean): Promise<void> {
    this.closing = true;
    if (!flush) this.queue = [];
    this.wake?.();
    await this.done;
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0) {
        if (this.closing) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
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
  }
}
