import type { XPublisher, XSubscriber } from "zeromq";

/** What has passed through a relay since it started. Only grows. */
export interface RelayCounters {
  /** Messages from publishers to subscribers. */
  readonly messages: number;
  /** Their total size in bytes, all frames counted. */
  readonly bytes: number;
  /** Subscribe and unsubscribe messages from subscribers to publishers. */
  readonly subscriptionChanges: number;
}

/**
 * The forwarder's core, the XSUB/XPUB proxy of the ZeroMQ Guide (chapter 2)
 * written as two loops instead of zeromq's Proxy so that every message passes
 * through one method, `relay`, where a rule can later drop or delay it.
 *
 * `publishers` is the XSUB socket (servers' PUB sockets connect to it);
 * `subscribers` is the XPUB socket (servers' SUB sockets connect to it).
 * Messages flow publishers → subscribers; subscriptions flow back, so that a
 * publisher only sends what someone has subscribed to.
 */
export class MessageRelay {
  #messages = 0;
  #bytes = 0;
  #subscriptionChanges = 0;
  #stopping = false;

  constructor(
    private readonly publishers: XSubscriber,
    private readonly subscribers: XPublisher,
  ) {}

  get counters(): RelayCounters {
    return { messages: this.#messages, bytes: this.#bytes, subscriptionChanges: this.#subscriptionChanges };
  }

  /**
   * Relays in both directions until `stop` is called; resolves then.
   * Rejects if a socket fails for another reason.
   */
  async run(): Promise<void> {
    await Promise.all([this.#forwardMessages(), this.#forwardSubscriptions()]);
  }

  /** Stops both loops and closes both sockets. */
  stop(): void {
    this.#stopping = true;
    this.publishers.close();
    this.subscribers.close();
  }

  /** The one place every published message passes on its way to the subscribers. */
  async relay(frames: Buffer[]): Promise<void> {
    this.#messages += 1;
    for (const frame of frames) this.#bytes += frame.length;
    await this.subscribers.send(frames);
  }

  async #forwardMessages(): Promise<void> {
    await this.#pump(this.publishers, (frames) => this.relay(frames));
  }

  async #forwardSubscriptions(): Promise<void> {
    await this.#pump(this.subscribers, async (frames) => {
      this.#subscriptionChanges += 1;
      await this.publishers.send(frames);
    });
  }

  /** Receives from `source` and hands each message on, one at a time (a socket allows one send in flight). */
  async #pump(source: XSubscriber | XPublisher, handOn: (frames: Buffer[]) => Promise<void>): Promise<void> {
    try {
      for await (const frames of source) await handOn(frames);
    } catch (error) {
      // Closing the sockets interrupts a pending receive or send: that is how we stop.
      if (!this.#stopping) throw error;
    }
  }
}
