import type { XPublisher, XSubscriber } from "zeromq";
import type { RelayDecision, RelayVerdict } from "./fault-rules.ts";
import { receiverOf } from "./peer-addressing.ts";

/**
 * Decides what happens to each published message (fault injection,
 * docs/protocol.md §11): pass, drop or delay it, or send copies of it in
 * its place, each with its own verdict. Without one, the relay passes
 * everything.
 */
export type MessageFilter = (frames: readonly Buffer[]) => RelayDecision;

/**
 * What has passed through a relay since it started. Only grows. A message
 * the filter replaces by copies counts as one message per copy, each
 * dropped, delayed or sent on its own: every message counted got one
 * verdict, and `dropped` and `delayed` never exceed `messages`.
 */
export interface RelayCounters {
  /** Messages from publishers to subscribers. */
  readonly messages: number;
  /** Their total size in bytes, all frames counted. */
  readonly bytes: number;
  /** Subscribe and unsubscribe messages from subscribers to publishers. */
  readonly subscriptionChanges: number;
  /** Messages the filter dropped (counted in `messages` too). */
  readonly dropped: number;
  /** Messages the filter held back before sending (counted in `messages` too). */
  readonly delayed: number;
}

/**
 * The forwarder's core, the XSUB/XPUB proxy of the ZeroMQ Guide (chapter 2)
 * written as two loops instead of zeromq's Proxy so that every message passes
 * through one method, `relay`, where the optional filter (the fault rules of
 * docs/protocol.md §11, testing only) can drop or delay it, or replace a
 * multicast by one copy per receiver so that each can be judged alone.
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
  #dropped = 0;
  #delayed = 0;
  /**
   * The servers whose topic `raft/<id>/` is subscribed: who is on the bus
   * through this forwarder. A multicast topic `raft/from/<id>/` is
   * subscribed by every server that knows `id`, so it says nothing of `id`.
   */
  readonly #subscribed = new Set<number>();
  #stopping = false;
  /** Delayed messages not yet sent: their timers, and how many sends are waiting or in flight. */
  readonly #delayTimers = new Set<NodeJS.Timeout>();
  #delayedPending = 0;
  /** Sends in order while delayed messages are about: a socket allows one send in flight. */
  #sendQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly publishers: XSubscriber,
    private readonly subscribers: XPublisher,
    private readonly filter?: MessageFilter,
  ) {}

  get counters(): RelayCounters {
    return {
      messages: this.#messages,
      bytes: this.#bytes,
      subscriptionChanges: this.#subscriptionChanges,
      dropped: this.#dropped,
      delayed: this.#delayed,
    };
  }

  /**
   * The servers subscribed to their topic now. XPUB passes on only a topic's
   * first subscription and its last unsubscription, so this is exact however
   * many connections a restarted server has had.
   */
  get subscribedServers(): ReadonlySet<number> {
    return new Set(this.#subscribed);
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
    for (const timer of this.#delayTimers) clearTimeout(timer);
    this.#delayTimers.clear();
    this.publishers.close();
    this.subscribers.close();
  }

  /** The one place every published message passes on its way to the subscribers. */
  async relay(frames: Buffer[]): Promise<void> {
    const decision = this.filter?.(frames);
    if (decision?.kind !== "copies") await this.#actOn(frames, decision);
    else for (const copy of decision.copies) await this.#actOn(copy.frames, copy.verdict);
  }

  /** Counts one message and sends, drops or delays it as `verdict` says; with no verdict, sends it. */
  async #actOn(frames: Uint8Array[], verdict: RelayVerdict | undefined): Promise<void> {
    this.#messages += 1;
    for (const frame of frames) this.#bytes += frame.length;
    if (verdict?.kind === "drop") {
      this.#dropped += 1;
      return;
    }
    if (verdict?.kind === "delay") {
      this.#delayed += 1;
      this.#sendLater(frames, verdict.ms);
      return;
    }
    // With no delayed message about, nothing else can be sending: send directly, as a plain proxy does.
    if (this.#delayedPending === 0) await this.subscribers.send(frames);
    else await this.#sendInOrder(frames);
  }

  #sendLater(frames: Uint8Array[], ms: number): void {
    this.#delayedPending += 1;
    const timer = setTimeout(() => {
      this.#delayTimers.delete(timer);
      this.#sendInOrder(frames)
        // A send fails only when the socket closes under it, which is how the relay stops.
        .catch(() => undefined)
        .finally(() => (this.#delayedPending -= 1));
    }, ms);
    this.#delayTimers.add(timer);
  }

  #sendInOrder(frames: Uint8Array[]): Promise<void> {
    const sent = this.#sendQueue.then(() => this.subscribers.send(frames));
    this.#sendQueue = sent.catch(() => undefined);
    return sent;
  }

  async #forwardMessages(): Promise<void> {
    await this.#pump(this.publishers, (frames) => this.relay(frames));
  }

  async #forwardSubscriptions(): Promise<void> {
    await this.#pump(this.subscribers, async (frames) => {
      this.#subscriptionChanges += 1;
      this.#noteSubscription(frames[0]);
      await this.publishers.send(frames);
    });
  }

  /** A subscription message is one frame: 1 (subscribe) or 0 (unsubscribe), then the topic. */
  #noteSubscription(frame: Buffer | undefined): void {
    const receiver = receiverOf(frame?.subarray(1));
    if (receiver === null) return;
    if (frame?.[0] === 1) this.#subscribed.add(receiver);
    else if (frame?.[0] === 0) this.#subscribed.delete(receiver);
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
