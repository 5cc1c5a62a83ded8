/**
 * Proves the forwarder's relay in-process (ZeroMQ Guide ch. 2, the XSUB/XPUB
 * proxy): subscriptions travel from subscribers to publishers, so only
 * subscribed topics are delivered; every message passes through relay(),
 * frames intact and in order; counters count messages, bytes and
 * subscription changes; the servers whose topic is subscribed are known,
 * and a multicast topic counts none; stop() ends run().
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Publisher, Subscriber } from "zeromq";
import { MessageRelay } from "../../forwarder/message-relay.ts";
import { createForwarderXPublisher, createForwarderXSubscriber } from "../../src/net/sockets.ts";

/** A relay that also records what passes, as a later drop/delay rule would see it. */
class RecordingRelay extends MessageRelay {
  readonly seen: string[] = [];
  override async relay(frames: Buffer[]): Promise<void> {
    this.seen.push(frames.map((frame) => frame.toString()).join("|"));
    await super.relay(frames);
  }
}

test("the relay delivers subscribed topics only, frames intact, and counts what passes", async () => {
  const xsub = createForwarderXSubscriber();
  const xpub = createForwarderXPublisher();
  await xsub.bind("tcp://127.0.0.1:*");
  await xpub.bind("tcp://127.0.0.1:*");
  const relay = new RecordingRelay(xsub, xpub);
  const running = relay.run();

  const publisher = new Publisher({ linger: 0 });
  const subscriber = new Subscriber({ linger: 0, receiveTimeout: 100 });
  try {
    publisher.connect(xsub.lastEndpoint as string);
    subscriber.connect(xpub.lastEndpoint as string);
    // First, so that it has reached the relay by the time raft/2/ has: a multicast topic names no server on the bus.
    subscriber.subscribe("raft/from/5/");
    subscriber.subscribe("raft/2/");

    // The slow joiner: publish until the subscription has reached the publisher.
    let first: Buffer[] | undefined;
    for (let i = 0; i < 200 && first === undefined; i++) {
      await publisher.send(["raft/2/", `hello ${i}`]);
      first = await subscriber.receive().catch(() => undefined);
    }
    assert.ok(first !== undefined, "a subscribed message arrived");
    assert.equal(first[0]?.toString(), "raft/2/");
    while (await subscriber.receive().catch(() => undefined)); // drain the extra hellos

    await publisher.send(["raft/3/", "not for us"]);
    await publisher.send(["raft/2/", "a", "b"]);
    const next = await subscriber.receive();
    assert.deepEqual(next.map((frame) => frame.toString()), ["raft/2/", "a", "b"], "the unsubscribed topic was not delivered");

    assert.ok(relay.seen.includes("raft/2/|a|b"));
    assert.ok(!relay.seen.includes("raft/3/|not for us"), "XSUB filtered it at the publisher: it never reached relay()");
    const counters = relay.counters;
    assert.equal(counters.messages, relay.seen.length);
    assert.ok(counters.bytes >= counters.messages * "raft/2/".length);
    assert.ok(counters.subscriptionChanges >= 2);
    assert.deepEqual([...relay.subscribedServers], [2], "server 2's topic is subscribed: it is on the bus");

    subscriber.unsubscribe("raft/2/");
    await waitUntil(() => relay.counters.subscriptionChanges >= counters.subscriptionChanges + 1);
    assert.deepEqual([...relay.subscribedServers], [], "and after the unsubscription it is not");
  } finally {
    publisher.close();
    subscriber.close();
    relay.stop();
  }
  await running;
  assert.ok(xsub.closed && xpub.closed);
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), "condition never held");
}
