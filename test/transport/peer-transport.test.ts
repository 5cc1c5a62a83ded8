/**
 * PeerTransport over a real XSUB/XPUB forwarder on loopback (ZeroMQ Guide
 * ch. 2): a message from server 2 reaches server 1; a message to server 10
 * never reaches server 1 (the `raft/<id>/` topic with its trailing delimiter
 * is filtered before decoding); garbage published on a server's topic is
 * dropped with a warning while the receive loop goes on; with two
 * forwarders, one of them down, messages still arrive, and with both up each
 * is handed on once, in the order sent. Delivery is lossy by
 * design (slow joiner), so senders repeat until the receiver has what it
 * needs, as Raft's retries do.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { XPublisher, XSubscriber } from "zeromq";
import type { ForwarderConfig } from "../../src/config/cluster-config.ts";
import { encodePeerMessage, peerTopic } from "../../src/protocol/peer-codec.ts";
import { PeerStamper, peerStampBytes } from "../../src/protocol/peer-stamp.ts";
import type { AppendEntries, Message, RequestVote } from "../../src/raft/index.ts";
import { PeerTransport } from "../../src/transport/peer-transport.ts";
import { createForwarderXPublisher, createForwarderXSubscriber, createPeerPublisher } from "../../src/net/sockets.ts";
import { eventually } from "./eventually.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";

const serverIds = [1, 2, 10];

/** A minimal forwarder: publishers' messages one way, subscriptions the other. */
class TestForwarder {
  private readonly relays: Promise<void>[];

  private constructor(
    private readonly publishers: XSubscriber,
    private readonly subscribers: XPublisher,
    readonly endpoints: ForwarderConfig,
    delayMs: number,
  ) {
    this.relays = [relay(publishers, subscribers, delayMs), relay(subscribers, publishers, 0)];
  }

  /** `delayMs`: how long it holds each message before passing it on, in order (a slower forwarder). */
  static async start(delayMs: number): Promise<TestForwarder> {
    const publishers = createForwarderXSubscriber();
    const subscribers = createForwarderXPublisher();
    await publishers.bind("tcp://127.0.0.1:0");
    await subscribers.bind("tcp://127.0.0.1:0");
    return new TestForwarder(publishers, subscribers, { pub: publishers.lastEndpoint!, sub: subscribers.lastEndpoint! }, delayMs);
  }

  async close(): Promise<void> {
    this.publishers.close();
    this.subscribers.close();
    await Promise.all(this.relays);
  }
}

async function relay(from: XSubscriber | XPublisher, to: XSubscriber | XPublisher, delayMs: number): Promise<void> {
  try {
    for await (const frames of from) {
      if (delayMs > 0) await sleep(delayMs);
      await to.send(frames);
    }
  } catch (error) {
    if (!from.closed && !to.closed) throw error;
  }
}

const toClose: Array<{ close(): unknown }> = [];
after(async () => {
  for (const closable of toClose.reverse()) await closable.close();
});

async function startForwarder(options: { readonly delayMs?: number } = {}): Promise<TestForwarder> {
  const forwarder = await TestForwarder.start(options.delayMs ?? 0);
  toClose.push(forwarder);
  return forwarder;
}

/** A transport whose received messages collect in `inbox`; `ids` are the servers of its config file. */
function openTransport(selfId: number, forwarders: readonly ForwarderConfig[], ids: readonly number[] = serverIds) {
  const logger = new RecordingLogger();
  const transport = new PeerTransport({ selfId, serverIds: ids, forwarders, logger });
  toClose.push(transport);
  const inbox: Message[] = [];
  const listening = transport.listen((message) => inbox.push(message));
  return { transport, inbox, logger, listening };
}

const vote = (from: number, to: number, term = 3): RequestVote => ({ type: "RequestVote", term, from, to, lastLogIndex: 0, lastLogTerm: 0 });

/** Server 1's AppendEntries of term 3 to `to`, from the log's start: a heartbeat unless `fields` say otherwise. */
const appendFrom1 = (to: number, fields: Partial<Pick<AppendEntries, "entries" | "readRound">>): AppendEntries => ({
  type: "AppendEntries",
  term: 3,
  from: 1,
  to,
  prevLogIndex: 0,
  prevLogTerm: 0,
  entries: [],
  leaderCommit: 0,
  readRound: 0,
  ...fields,
});

test("a message from server 2 reaches server 1, and one to server 10 never does", async () => {
  const forwarder = await startForwarder();
  const one = openTransport(1, [forwarder.endpoints]);
  const two = openTransport(2, [forwarder.endpoints]);
  const ten = openTransport(10, [forwarder.endpoints]);

  await eventually("server 1 and server 10 each receive their message", () => one.inbox.length > 0 && ten.inbox.length > 0, {
    action: () => two.transport.send([vote(2, 1), vote(2, 10, 4)]),
  });
  assert.deepEqual(one.inbox[0], vote(2, 1));
  assert.ok(one.inbox.every((message) => message.to === 1 && message.term === 3));
  assert.ok(ten.inbox.every((message) => message.to === 10 && message.term === 4));
  // Nothing for server 10 was even handed to server 1's decoder: the topic filter stopped it.
  assert.equal(one.transport.counters.receivedInvalid, 0);
  assert.ok(two.transport.counters.sent > 0);
});

test("the same AppendEntries to every peer is published once and reaches each of them", async () => {
  const forwarder = await startForwarder();
  const one = openTransport(1, [forwarder.endpoints]);
  const two = openTransport(2, [forwarder.endpoints]);
  const ten = openTransport(10, [forwarder.endpoints]);
  const heartbeat = (to: number, readRound: number): AppendEntries => appendFrom1(to, { readRound });
  let round = 0;
  await eventually("servers 2 and 10 each receive a multicast heartbeat", () => two.inbox.length > 0 && ten.inbox.length > 0, {
    action: () => {
      round++;
      one.transport.send([heartbeat(2, round), heartbeat(10, round)]);
    },
  });
  assert.equal(one.transport.counters.sent, round, "one publish per batch, not one per follower");
  for (const [to, inbox] of [[2, two.inbox], [10, ten.inbox]] as const) {
    for (const message of inbox) assert.deepEqual(message, heartbeat(to, (message as AppendEntries).readRound));
  }

  // A server that is not a peer of the sender's configuration still knows it, and drops what is not for it.
  one.transport.followMembers([1, 2, 10]);
  const seven = openTransport(7, [forwarder.endpoints], [1, 7]);
  await eventually("server 7 sees a multicast that is not for it", () => seven.transport.counters.receivedForOthers > 0, {
    action: () => one.transport.send([heartbeat(2, ++round), heartbeat(10, round)]),
  });
  assert.equal(seven.inbox.length, 0);
  assert.equal(seven.transport.counters.receivedInvalid, 0);
  assert.ok(!seven.logger.has("warn", "dropped an invalid peer message"));
});

test("every message of one send() is handed to ZeroMQ inside the call, not one per later microtask", async () => {
  const forwarder = await startForwarder();
  const one = openTransport(1, [forwarder.endpoints]);
  const append = (to: number): AppendEntries => appendFrom1(to, { entries: [{ index: 1, term: 3, type: "command", data: new Uint8Array([1]) }] });
  // Two partners and a vote: three publishes. Each send's promise is settled when it returns, so the
  // counters' callbacks are the first microtasks queued; one await later all three have run. Before, an
  // outbox sent them one per microtask after the first (a leader's second partner waited for its disk write).
  one.transport.send([append(2), append(10), vote(1, 2)]);
  await Promise.resolve();
  assert.equal(one.transport.counters.sent, 3);
  assert.equal(one.transport.counters.sendDropped, 0);
});

test("members of a configuration pass besides the config's servers, and stay known; a server of no configuration hears from any", async () => {
  const forwarder = await startForwarder();
  const one = openTransport(1, [forwarder.endpoints]);
  const seven = openTransport(7, [forwarder.endpoints], [1, 7]);
  await eventually("server 7, in no config file of server 1's, is refused", () => one.transport.counters.receivedInvalid > 0, {
    action: () => seven.transport.send([vote(7, 1)]),
  });
  assert.equal(one.inbox.length, 0);
  one.transport.followMembers([1, 2, 7]);
  await eventually("a member's message arrives", () => one.inbox.length > 0, { action: () => seven.transport.send([vote(7, 1)]) });
  one.transport.followMembers([1, 2]);
  const before = one.inbox.length;
  await eventually("a server once a member stays known", () => one.inbox.length > before, { action: () => seven.transport.send([vote(7, 1)]) });

  const joining = openTransport(5, [forwarder.endpoints], [5]);
  joining.transport.followMembers([]);
  one.transport.followMembers([1, 2, 5]);
  await eventually("a server that knows no configuration hears from the leader that adds it", () => joining.inbox.length > 0, {
    action: () => one.transport.send([vote(1, 5)]),
  });
  joining.transport.followMembers([1, 2, 5]);
  joining.transport.send([vote(5, 7)]);
  assert.equal(joining.transport.counters.sendDropped, 1, "a message to a server of no configuration it had is dropped");
  assert.ok(joining.logger.has("warn", "dropped a RequestVote to server 7"));
});

test("garbage on a server's topic is dropped with a warning and the loop goes on", async () => {
  const forwarder = await startForwarder();
  const one = openTransport(1, [forwarder.endpoints]);
  const two = openTransport(2, [forwarder.endpoints]);
  const rogue = createPeerPublisher();
  toClose.push(rogue);
  rogue.connect(forwarder.endpoints.pub);

  const [topic, body] = encodePeerMessage(vote(2, 1));
  const asTwo = new PeerStamper(2);
  const garbage = (): Uint8Array[][] => [
    [peerTopic(1), new Uint8Array([0xc1, 0xff, 0x00]), asTwo.next()],
    [peerTopic(1)],
    [topic, body],
    [topic, body, new Uint8Array(peerStampBytes - 1)],
    [topic, body, new Uint8Array(peerStampBytes)],
    [topic, body, new PeerStamper(9).next()],
    [topic, encodePeerMessage({ ...vote(2, 1), term: 2 ** 53 - 1 })[1], asTwo.next()],
    [peerTopic(1), encodePeerMessage({ ...vote(2, 1), from: 9 } as RequestVote)[1], new PeerStamper(9).next()],
  ];
  await eventually("server 1 has seen every kind of garbage", () => one.transport.counters.receivedInvalid >= garbage().length, {
    action: async () => {
      for (const frames of garbage()) await rogue.send(frames);
    },
  });
  assert.ok(one.logger.has("warn", "dropped an invalid peer message"));
  assert.equal(one.inbox.length, 0);

  await eventually("a valid message still gets through afterwards", () => one.inbox.length > 0, {
    action: () => two.transport.send([vote(2, 1)]),
  });
  assert.deepEqual(one.inbox[0], vote(2, 1));
});

test("with two forwarders, one of them down, messages still arrive", async () => {
  const up = await startForwarder();
  const down = await startForwarder();
  await down.close();
  const forwarders = [down.endpoints, up.endpoints];
  const one = openTransport(1, forwarders);
  const two = openTransport(2, forwarders);
  await eventually("server 1 receives through the forwarder that is up", () => one.inbox.length > 0, {
    action: () => two.transport.send([vote(2, 1)]),
  });
  assert.deepEqual(one.inbox[0], vote(2, 1));
});

test("with two forwarders, one of them slower, each message is handed on once and in the order sent", async () => {
  const fast = await startForwarder();
  const slow = await startForwarder({ delayMs: 2 });
  const forwarders = [fast.endpoints, slow.endpoints];
  const one = openTransport(1, forwarders);
  const two = openTransport(2, forwarders);
  // Until both forwarders carry server 2's messages to server 1, some go one way only (the slow joiner).
  await eventually("server 1 receives through both forwarders", () => one.transport.counters.receivedCopies > 0, {
    action: () => two.transport.send([vote(2, 1, 1)]),
  });
  const copiesBefore = one.transport.counters.receivedCopies;
  const terms = Array.from({ length: 200 }, (_, i) => i + 2);
  two.transport.send(terms.map((term) => vote(2, 1, term)));
  await eventually("every message has come through both forwarders", () => one.transport.counters.receivedCopies >= copiesBefore + terms.length);
  assert.deepEqual(
    one.inbox.map((message) => message.term).filter((term) => term > 1),
    terms,
  );
  assert.equal(one.transport.counters.receivedInvalid, 0);
});

test("close() ends listen(); a throwing handler rejects it; bad endpoints are refused", async () => {
  const forwarder = await startForwarder();
  const one = openTransport(1, [forwarder.endpoints]);
  await one.transport.close();
  await one.listening;
  one.transport.send([vote(1, 2)]);

  const logger = new RecordingLogger();
  const three = new PeerTransport({ selfId: 1, serverIds, forwarders: [forwarder.endpoints], logger });
  toClose.push(three);
  const two = openTransport(2, [forwarder.endpoints]);
  const failing = three.listen(() => {
    throw new Error("bug in the handler");
  });
  const sending = setInterval(() => two.transport.send([vote(2, 1)]), 20);
  try {
    await assert.rejects(failing, /bug in the handler/);
  } finally {
    clearInterval(sending);
  }

  assert.throws(
    () => new PeerTransport({ selfId: 1, serverIds, forwarders: [{ pub: "nonsense://x", sub: "tcp://127.0.0.1:1" }], logger }),
    /cannot connect to nonsense:\/\/x \(forwarders\[0\]\.pub\)/,
  );
});
