import type { Event, Publisher, Subscriber } from "zeromq";
import type { ForwarderConfig } from "../config/cluster-config.ts";
import { decodePeerMessage, encodePeerMessage, encodePeerMulticast, peerMulticastTopicText, peerTopicText, type PeerFrames } from "../protocol/peer-codec.ts";
import { decodePeerStamp, PeerStamper } from "../protocol/peer-stamp.ts";
import { assert } from "../base/assert.ts";
import type { Logger } from "../base/logger.ts";
import type { Message, NodeId } from "../raft/index.ts";
import { LogThrottle } from "../logging/log-throttle.ts";
import { receiveUntilClosed } from "../net/receive-loop.ts";
import type { CurveClientKeys, CurveClientSecurity } from "../net/curve-security.ts";
import { describeHandshakeFailure, handshakeFailureKind } from "../net/handshake-failure.ts";
import { createPeerPublisher, createPeerSubscriber, watchSocketEvents } from "../net/sockets.ts";
import { FirstCopyFilter } from "./first-copy-filter.ts";
import { planSends } from "./multicast-plan.ts";

export interface PeerTransportOptions {
  readonly selfId: NodeId;
  /**
   * The config file's servers, this one included: messages from anyone else
   * are refused, until followMembers names more.
   */
  readonly serverIds: readonly NodeId[];
  readonly forwarders: readonly ForwarderConfig[];
  readonly logger: Logger;
  /**
   * CURVE towards the forwarders (docs/protocol.md §10): the forwarders'
   * public key and this server's own key pair (both the cluster's pair).
   * Plaintext when absent.
   */
  readonly curve?: CurveClientKeys;
}

/** What went through the transport since it opened, for status and tests. */
export interface PeerTransportCounters {
  /** Messages published: a multicast counts once. */
  sent: number;
  /** Not sent: addressed to a server of no configuration, or refused by ZeroMQ. (At its high-water mark the PUB socket drops messages itself, uncounted.) */
  sendDropped: number;
  received: number;
  /** Frames that did not decode to a valid message for this server. */
  receivedInvalid: number;
  /** Further copies of messages already received (one per forwarder after the first), dropped. */
  receivedCopies: number;
  /** Multicasts of a server this one knows to servers that do not include it, dropped. */
  receivedForOthers: number;
}

/** Who a server that knows no configuration hears from: anyone (see followMembers). */
const anyServer: Pick<ReadonlySet<NodeId>, "has"> = { has: () => true };

/**
 * Raft messages over the forwarders (ZeroMQ Guide ch. 2, the XSUB/XPUB
 * proxy): one PUB socket connected to every forwarder's `pub` endpoint and
 * one SUB socket connected to every forwarder's `sub` endpoint, subscribed
 * to `raft/<selfId>/`.
 *
 * Delivery is best effort and that is what Raft expects: a message may be
 * lost (a forwarder is down, a queue is full, or it was sent before the
 * subscription reached the forwarder, the "slow joiner"), or arrive twice
 * (once per forwarder). Raft repairs losses by retrying, so there is no
 * waiting for connections here. Each message carries a stamp
 * (peer-stamp.ts), with which only its first copy is handed on
 * (first-copy-filter.ts).
 */
export class PeerTransport {
  readonly counters: PeerTransportCounters = { sent: 0, sendDropped: 0, received: 0, receivedInvalid: 0, receivedCopies: 0, receivedForOthers: 0 };

  private readonly selfId: NodeId;
  /** The config file's servers and every member of a configuration this server has been in (followMembers). */
  private readonly serverIds: Set<NodeId>;
  /** This server knows no configuration yet: it is joining a cluster (followMembers). */
  private joining = false;
  /** The other members of the configuration in force (the config file's servers until followMembers): whom a multicast must reach. */
  private peers: ReadonlySet<NodeId>;
  /** The servers whose multicast topic the subscriber has subscribed to. */
  private readonly multicastSenders = new Set<NodeId>();
  private readonly logger: Logger;
  private readonly throttle: LogThrottle;
  private readonly publisher: Publisher;
  private readonly subscriber: Subscriber;
  private readonly eventWatches: Promise<void>[];
  private readonly stamper: PeerStamper;
  private readonly firstCopies = new FirstCopyFilter();
  private listening = false;
  private closed = false;

  /**
   * Connects to every forwarder; ZeroMQ completes the connections in the
   * background and keeps reconnecting.
   * @throws Error naming the forwarder endpoint that cannot be connected to (malformed)
   * @throws CurveUnavailableError when `curve` is given and libzmq cannot honour it
   */
  constructor(options: PeerTransportOptions) {
    assert(options.serverIds.includes(options.selfId), `server ${options.selfId} is not among the cluster's servers`);
    assert(options.forwarders.length > 0, "a peer transport needs at least one forwarder");
    this.selfId = options.selfId;
    this.serverIds = new Set(options.serverIds);
    this.peers = othersThan(options.selfId, options.serverIds);
    this.logger = options.logger;
    this.throttle = new LogThrottle(options.logger);
    this.stamper = new PeerStamper(options.selfId);
    const security: CurveClientSecurity | undefined = options.curve === undefined ? undefined : { role: "client", ...options.curve };
    this.publisher = createPeerPublisher(security);
    try {
      this.subscriber = createPeerSubscriber(security);
    } catch (error) {
      this.publisher.close();
      throw error;
    }
    this.eventWatches = [
      watchSocketEvents(this.publisher, (event) => this.logEvent("publisher", event)),
      watchSocketEvents(this.subscriber, (event) => this.logEvent("subscriber", event)),
    ];
    try {
      this.subscriber.subscribe(peerTopicText(this.selfId));
      this.hearMulticastsOf(options.serverIds);
      options.forwarders.forEach((forwarder, i) => {
        connect(this.publisher, forwarder.pub, `forwarders[${i}].pub`);
        connect(this.subscriber, forwarder.sub, `forwarders[${i}].sub`);
      });
    } catch (error) {
      this.publisher.close();
      this.subscriber.close();
      throw error;
    }
  }

  /**
   * The members of the configuration in force (dissertation §4.1): from now
   * on messages from and to them pass, besides the config file's servers.
   * A server once a member stays known: a leader goes on replicating to a
   * server it removed until it holds its removal, and its last messages may
   * still be on the way. No members at all means this server knows no
   * configuration yet, as one that joins a cluster (dissertation §4.2.1):
   * it hears from any server then, since the leader that adds it may be in
   * no config file it has.
   */
  followMembers(members: readonly NodeId[]): void {
    this.joining = members.length === 0;
    for (const id of members) this.serverIds.add(id);
    this.peers = othersThan(this.selfId, members);
    this.hearMulticastsOf(members);
  }

  /** Subscribes to the multicast topic of each of `ids` not yet subscribed to (ZeroMQ filters by topic prefix, so one per sender). */
  private hearMulticastsOf(ids: Iterable<NodeId>): void {
    for (const id of ids) {
      if (id === this.selfId || this.multicastSenders.has(id)) continue;
      this.multicastSenders.add(id);
      this.subscriber.subscribe(peerMulticastTopicText(id));
    }
  }

  /**
   * Hands every message to ZeroMQ before it returns, in order (the PUB
   * socket never waits: src/net/sockets.ts). A leader's AppendEntries to
   * its partners thus all leave before its own disk write starts; queued
   * behind one another, the second waited for that start and the thread it
   * wakes, on the critical path of every write (docs/architecture.md §2).
   * The same AppendEntries to every peer goes out once (multicast-plan.ts).
   */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const message of messages) {
      assert(message.from === this.selfId && message.to !== this.selfId, `server ${this.selfId} asked to send a message from ${message.from} to ${message.to}`);
    }
    for (const planned of planSends(messages, this.peers)) {
      const { message } = planned;
      if (planned.kind === "multicast") {
        this.publish(encodePeerMulticast(message, planned.receivers));
      } else if (!this.joining && !this.serverIds.has(message.to)) {
        // Only a leader that took its configuration from the log in one batch with a later one can name a
        // server it never had in force: a removed one it informs (dissertation §4.2.2). Its removal stands.
        this.counters.sendDropped++;
        this.throttle.warn("unknown receiver", `dropped a ${message.type} to server ${message.to}, which is in no configuration this server has had in force`);
      } else {
        this.publish(encodePeerMessage(message));
      }
    }
  }

  /** Stamped in the order sent. */
  private publish(frames: PeerFrames): void {
    let sent: Promise<void>;
    try {
      sent = this.publisher.send([...frames, this.stamper.next()]);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      () => void this.counters.sent++,
      (error: unknown) => {
        this.counters.sendDropped++;
        this.throttle.warn("send failed", `sending a peer message failed: ${String(error)}`);
      },
    );
  }

  /**
   * Hands each valid message addressed to this server to `handler`, in
   * arrival order, until close(); invalid input is counted, warned about
   * (rate-limited) and dropped. Resolves after close(). If `handler` throws,
   * that is a bug in the caller: the loop stops and the promise rejects with
   * that error. One listener per transport.
   */
  async listen(handler: (message: Message) => void): Promise<void> {
    assert(!this.listening, "PeerTransport.listen() called twice");
    this.listening = true;
    await receiveUntilClosed(
      () => this.subscriber.receive(),
      () => this.closed,
      (frames) => {
        const message = this.accept(frames);
        if (message !== null) handler(message);
      },
    );
  }

  /** The message in `frames` if it is valid and its first copy; null (counted, invalid ones warned about) if not. */
  private accept(frames: readonly Uint8Array[]): Message | null {
    const invalid = (reason: string): null => {
      this.counters.receivedInvalid++;
      this.throttle.warn("invalid peer message", `dropped an invalid peer message: ${reason}`);
      return null;
    };
    if (frames.length !== 3) return invalid(`expected 3 frames (topic, body, stamp), got ${frames.length}`);
    const stamp = decodePeerStamp(frames[2]!);
    if (typeof stamp === "string") return invalid(stamp);
    if (this.firstCopies.isLaterCopy(stamp)) {
      this.counters.receivedCopies++;
      return null;
    }
    const result = decodePeerMessage(frames.slice(0, 2), this.selfId, this.joining ? anyServer : this.serverIds);
    if (!result.ok && result.forOthers) {
      this.counters.receivedForOthers++;
      return null;
    }
    if (!result.ok) return invalid(result.reason);
    if (result.message.from !== stamp.from) return invalid(`the stamp names server ${stamp.from}, the message server ${result.message.from}`);
    this.firstCopies.record(stamp);
    this.counters.received++;
    return result.message;
  }

  /** Stops both loops and closes the sockets; unsent messages are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.publisher.close();
    this.subscriber.close();
    await Promise.all(this.eventWatches);
  }

  private logEvent(socket: "publisher" | "subscriber", event: Event): void {
    switch (event.type) {
      case "connect":
        this.logger.info(`${socket} connected to forwarder ${event.address}`);
        return;
      case "disconnect":
        this.logger.warn(`${socket} lost its connection to forwarder ${event.address}; reconnecting`);
        return;
      case "connect:retry":
        this.logger.debug(`${socket} retrying forwarder ${event.address}`, { inMs: event.interval });
        return;
      case "handshake:error:protocol":
      case "handshake:error:auth":
      case "handshake:error:other":
        // With CURVE the usual cause is a key that differs from the forwarder's: this server cannot reach its peers.
        this.throttle.warn(
          `${socket} ${handshakeFailureKind(event)}`,
          `${socket} handshake with forwarder ${event.address} failed: ${describeHandshakeFailure(event, "connected")}`,
        );
        return;
      default:
        // accept, bind, close and the rest carry nothing an operator needs.
        return;
    }
  }
}

function connect(socket: Publisher | Subscriber, endpoint: string, field: string): void {
  try {
    socket.connect(endpoint);
  } catch (error) {
    throw new Error(`cannot connect to ${endpoint} (${field}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function othersThan(selfId: NodeId, ids: readonly NodeId[]): ReadonlySet<NodeId> {
  return new Set(ids.filter((id) => id !== selfId));
}
