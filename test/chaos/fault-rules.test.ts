/**
 * The forwarder's fault injection in-process (docs/protocol.md §11): the
 * rules drop and delay exactly the messages they name, read the sender only
 * when a rule needs it, and repeat with their seed; the addressing of a
 * real peer message is read without decoding it, and malformed bytes give
 * "unknown", never an exception; a multicast is split into one copy per
 * receiver only while rules are in force, each copy judged alone; the
 * control protocol takes valid requests in JSON and MessagePack and refuses
 * everything else with a sentence; and the relay, given the rules' filter,
 * drops and delays real messages, multicasts copy by copy.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { pack } from "msgpackr";
import { Publisher, Subscriber } from "zeromq";
import type { RelayDecision } from "../../forwarder/fault-rules.ts";
import { applyControlRequest } from "../../forwarder/control-socket.ts";
import { encodeControlReply, parseControlRequest, type ControlRequest } from "../../forwarder/control-protocol.ts";
import { FaultRules, describeFaultState, faultFilter } from "../../forwarder/fault-rules.ts";
import { MessageRelay } from "../../forwarder/message-relay.ts";
import { multicastSenderOf, receiverOf, receiversOf, senderOf } from "../../forwarder/peer-addressing.ts";
import { createForwarderXPublisher, createForwarderXSubscriber } from "../../src/net/sockets.ts";
import { encodePeerMessage } from "../../src/protocol/peer-codec.ts";
import type { Message } from "../../src/raft/index.ts";

const servers = [1, 2, 3, 4, 5];

function heartbeat(from: number, to: number, entries = 0): Message {
  return {
    type: "AppendEntries",
    term: 7,
    from,
    to,
    prevLogIndex: 3,
    prevLogTerm: 7,
    entries: Array.from({ length: entries }, (_, i) => ({ index: 4 + i, term: 7, type: "command" as const, data: new Uint8Array(1000).fill(i) })),
    leaderCommit: 3,
    readRound: 0,
  };
}

function vote(from: number, to: number): Message {
  return { type: "RequestVoteResponse", term: 7, from, to, voteGranted: true };
}

function framesOf(message: Message): Buffer[] {
  return encodePeerMessage(message).map((frame) => Buffer.from(frame));
}

/** The verdict of `rules` on a message from `from` to `to`, through the relay's filter. */
function verdictOn(rules: FaultRules, from: number, to: number): string {
  return faultFilter(rules)(framesOf(vote(from, to))).kind;
}

/**
 * The three frames of a multicast as a server sends it: topic
 * `raft/from/<from>/`, a body with `to` the receivers (fields in the
 * servers' order) and a stamp, whose contents the forwarder never reads.
 */
function multicastFrames(from: number, to: readonly number[], term = 7): Buffer[] {
  const body = pack({ type: "AppendEntries", term, from, to, prevLogIndex: 3, prevLogTerm: 7, entries: [], leaderCommit: 3, readRound: 0 });
  return [Buffer.from(`raft/from/${from}/`), body, Buffer.alloc(20, term)];
}

/** Each copy's topic and verdict, checking that each carries the original's body and stamp, the very buffers. */
function copiesOf(decision: RelayDecision, original: readonly Buffer[]): string[] {
  assert.equal(decision.kind, "copies");
  if (decision.kind !== "copies") return [];
  return decision.copies.map(({ frames, verdict }) => {
    assert.equal(frames.length, original.length);
    frames.slice(1).forEach((frame, i) => assert.equal(frame, original[i + 1], "body and stamp unchanged"));
    return `${Buffer.from(frames[0] as Uint8Array).toString()} ${verdict.kind}`;
  });
}

function parse(request: unknown, format: "json" | "msgpack" = "json") {
  const frame = format === "json" ? Buffer.from(JSON.stringify(request)) : pack(request);
  return parseControlRequest([frame], servers);
}

function apply(rules: FaultRules, request: unknown): void {
  const parsed = parse(request);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.message);
  applyControlRequest(rules, parsed.request);
}

test("peer addressing: the receiver from the topic and the sender from the body, for every message type", () => {
  for (const message of [heartbeat(3, 1), heartbeat(2, 5, 40), vote(4, 2)]) {
    const [topic, body] = framesOf(message);
    assert.equal(receiverOf(topic), message.to);
    assert.equal(senderOf(body), message.from);
  }
  assert.equal(receiverOf(Buffer.from("raft/10/")), 10);
  for (const topic of ["raft/0/", "raft/1", "raft//", "raft/x/", "raft/01/", "rafts/1/", "raft/1/2/", ""]) assert.equal(receiverOf(Buffer.from(topic)), null, topic);
  assert.equal(senderOf(pack({ type: "RequestVote", term: 1, to: 2 })), null, "no from field");
  assert.equal(senderOf(pack({ from: "3" })), null, "not an integer");
  assert.equal(senderOf(pack({ from: 0 })), null, "not positive");
  assert.equal(senderOf(pack([1, 2, 3])), null, "not a map");
  assert.equal(senderOf(pack({ nested: { from: 9, deep: [[[1]]] }, bin: Buffer.alloc(300), n: 2 ** 40, f: 1.5, from: 4 })), 4, "skips every kind of value before from");
  assert.equal(senderOf(Buffer.from([0x83, 0xa4])), null, "truncated");
  assert.equal(senderOf(undefined), null);
});

test("peer addressing never throws, whatever the bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const sender = senderOf(bytes);
      const receiver = receiverOf(bytes);
      return (sender === null || sender > 0) && (receiver === null || receiver > 0);
    }),
    { numRuns: 2000 },
  );
  // Deep nesting before `from` stops at the nesting limit instead of recursing away.
  const deep = Buffer.concat([Buffer.from([0x82, 0xa1, 0x78]), Buffer.alloc(100_000, 0x91), Buffer.from([0x01, 0xa4]), Buffer.from("from"), Buffer.from([0x02])]);
  assert.equal(senderOf(deep), null);
});

test("peer addressing: a multicast's sender from its topic and its receivers from its body", () => {
  const [topic, body] = multicastFrames(2, [1, 3, 5]);
  assert.equal(multicastSenderOf(topic), 2);
  assert.equal(receiverOf(topic), null, "a multicast topic names no receiver: its subscribers are not servers on the bus");
  assert.equal(senderOf(body), 2);
  assert.deepEqual(receiversOf(body), [1, 3, 5]);
  assert.equal(multicastSenderOf(Buffer.from("raft/from/123456789/")), 123456789);
  const badTopics = ["raft/from/0/", "raft/from/01/", "raft/from/1", "raft/from//", "raft/from/x/", "raft/from/1234567890/", "raft/from/1/2/", "raft/1/", "raft/fro/1/", ""];
  for (const bad of badTopics) assert.equal(multicastSenderOf(Buffer.from(bad)), null, bad);
  assert.equal(multicastSenderOf(undefined), null);

  assert.deepEqual(receiversOf(pack({ to: [4294967295, 1] })), [4294967295, 1], "up to 32 bits");
  assert.deepEqual(receiversOf(pack({ to: [7] })), [7], "one receiver: whether that is a valid multicast is for the receiver to say");
  assert.equal(receiversOf(pack({ to: Array.from({ length: 64 }, (_, i) => i + 1) }))?.length, 64);
  const badBodies: readonly [string, Uint8Array | undefined][] = [
    ["no to", pack({ type: "AppendEntries", term: 7, from: 1 })],
    ["a unicast's to", pack({ type: "AppendEntries", term: 7, from: 1, to: 2 })],
    ["empty", pack({ to: [] })],
    ["nested", pack({ to: [[2], 3] })],
    ["zero", pack({ to: [2, 0] })],
    ["negative", pack({ to: [2, -3] })],
    ["a string", pack({ to: [2, "3"] })],
    ["a float", pack({ to: [2, 3.5] })],
    ["over 32 bits", pack({ to: [2, 2 ** 32] })],
    ["named twice", pack({ to: [2, 3, 2] })],
    ["65 receivers", pack({ to: Array.from({ length: 65 }, (_, i) => i + 1) })],
    ["a huge count", Buffer.from([0x81, 0xa2, 0x74, 0x6f, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02])],
    ["truncated items", Buffer.from([0x81, 0xa2, 0x74, 0x6f, 0x93, 0x01, 0x02])],
    ["truncated count", Buffer.from([0x81, 0xa2, 0x74, 0x6f, 0xdc, 0x00])],
    ["truncated item", Buffer.from([0x81, 0xa2, 0x74, 0x6f, 0x92, 0x01, 0xce, 0x00])],
    ["not a map", pack([[2, 3]])],
    ["nothing", undefined],
  ];
  for (const [what, bad] of badBodies) assert.equal(receiversOf(bad), null, what);
});

test("a multicast's addressing is never trusted: any bytes give a list of positive integers or null, never an exception", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const receivers = receiversOf(bytes);
      const sender = multicastSenderOf(bytes);
      return (sender === null || sender > 0) && (receivers === null || (receivers.length <= 64 && receivers.every((id) => Number.isInteger(id) && id > 0)));
    }),
    { numRuns: 2000 },
  );
  // A `to` holding well-formed bytes after a valid header: only the items matter.
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: -5, max: 2 ** 33 }), fc.string(), fc.constant(null)), { maxLength: 70 }), (to) => {
      const receivers = receiversOf(pack({ to }));
      const valid = to.length > 0 && to.length <= 64 && new Set(to).size === to.length && to.every((id) => typeof id === "number" && id > 0 && id < 2 ** 32);
      return valid ? JSON.stringify(receivers) === JSON.stringify(to) : receivers === null;
    }),
    { numRuns: 1000 },
  );
});

test("the filter passes a multicast untouched with no rule, and splits it into one copy per receiver, each judged alone, while rules are in force", () => {
  const rules = new FaultRules();
  const filter = faultFilter(rules);
  const message = multicastFrames(1, [2, 3, 4]);
  assert.equal(filter(message), filter([Buffer.from("raft/from/1/"), Buffer.from("garbage")]), "no rule: passed as is, unread");
  assert.equal(filter(message).kind, "pass");

  rules.addDrop({ kind: "drop", from: [1], to: [3] });
  assert.deepEqual(copiesOf(filter(message), message), ["raft/2/ pass", "raft/3/ drop", "raft/4/ pass"]);
  const fromTwo = multicastFrames(2, [1, 3]);
  assert.deepEqual(copiesOf(filter(fromTwo), fromTwo), ["raft/1/ pass", "raft/3/ pass"], "only 1 -> 3 is cut");
  assert.equal(faultFilter(rules)(framesOf(vote(1, 3))).kind, "drop", "a message to one server is judged as before");

  rules.clear();
  rules.addDrop({ kind: "isolate", server: 1 });
  assert.deepEqual(copiesOf(filter(message), message), ["raft/2/ drop", "raft/3/ drop", "raft/4/ drop"], "the sender, from the topic, is isolated");

  rules.clear();
  rules.setDelay(40, 1000);
  const decision = filter(message);
  assert.equal(decision.kind, "copies");
  const delays = decision.kind === "copies" ? decision.copies.map(({ verdict }) => (verdict.kind === "delay" ? verdict.ms : -1)) : [];
  assert.ok(delays.every((ms) => ms >= 40 && ms <= 1040), `${delays}`);
  assert.equal(new Set(delays).size, 3, "each copy is delayed on its own");

  // Receivers that cannot be read: the message is judged whole, with no receiver, and goes on as it is.
  rules.clear();
  const unreadable = [Buffer.from("raft/from/1/"), pack({ type: "AppendEntries", term: 7, from: 1, to: [2, 2] }), Buffer.alloc(20)];
  rules.addDrop({ kind: "isolate", server: 3 });
  assert.equal(filter(unreadable).kind, "pass");
  rules.addDrop({ kind: "isolate", server: 1 });
  assert.equal(filter(unreadable).kind, "drop");
});

test("no rule: everything passes and the body is never read", () => {
  const rules = new FaultRules();
  assert.equal(rules.active, false);
  let reads = 0;
  assert.deepEqual(rules.verdict(3, () => (reads++, 1)), { kind: "pass" });
  assert.equal(reads, 0);
  // The filter does not even look at the frames: garbage passes.
  assert.equal(faultFilter(rules)([Buffer.from("garbage")]).kind, "pass");
});

test("isolate drops everything to and from one server, and nothing else", () => {
  const rules = new FaultRules();
  apply(rules, { op: "isolate", server: 3 });
  assert.equal(verdictOn(rules, 1, 3), "drop");
  assert.equal(verdictOn(rules, 3, 5), "drop");
  assert.equal(verdictOn(rules, 1, 2), "pass");
  assert.equal(verdictOn(rules, 5, 4), "pass");
  // A message to 3 is dropped on its topic alone; one whose sender cannot be read is judged by its receiver.
  assert.equal(rules.verdict(3, () => assert.fail("the sender is not needed")).kind, "drop");
  assert.equal(rules.verdict(2, () => null).kind, "pass");
  assert.deepEqual(describeFaultState(rules.state), ["isolate server 3"]);
});

test("drop between groups works both ways by default, one way when asked", () => {
  const both = new FaultRules();
  apply(both, { op: "drop", from: [1, 2], to: [3, 4, 5] });
  for (const [from, to] of [[1, 3], [2, 5], [4, 1], [5, 2]] as const) assert.equal(verdictOn(both, from, to), "drop", `${from} -> ${to}`);
  for (const [from, to] of [[1, 2], [2, 1], [3, 4], [5, 3]] as const) assert.equal(verdictOn(both, from, to), "pass", `${from} -> ${to}`);

  const oneWay = new FaultRules();
  apply(oneWay, { op: "drop", from: [1], to: [2], oneWay: true });
  assert.equal(verdictOn(oneWay, 1, 2), "drop");
  assert.equal(verdictOn(oneWay, 2, 1), "pass");
  assert.deepEqual(describeFaultState(oneWay.state), ["drop 1 -> 2"]);

  apply(oneWay, { op: "clear" });
  assert.equal(oneWay.active, false);
  assert.equal(verdictOn(oneWay, 1, 2), "pass");
});

test("loss drops about its fraction, and the same seed drops the same messages", () => {
  const draws = (seed: number): string[] => {
    const rules = new FaultRules();
    apply(rules, { op: "loss", fraction: 0.3, seed });
    return Array.from({ length: 5000 }, () => rules.verdict(1, () => 2).kind);
  };
  const first = draws(7);
  const dropped = first.filter((kind) => kind === "drop").length / first.length;
  assert.ok(dropped > 0.25 && dropped < 0.35, `dropped ${dropped}`);
  assert.deepEqual(draws(7), first);
  assert.notDeepEqual(draws(8), first);

  const off = new FaultRules();
  apply(off, { op: "loss", fraction: 0 });
  assert.equal(off.active, false, "a fraction of 0 turns loss off");
});

test("delay holds every message ms plus at most the jitter; drop rules come first", () => {
  const rules = new FaultRules();
  apply(rules, { op: "delay", ms: 40, jitterMs: 10 });
  const delays = Array.from({ length: 1000 }, () => rules.verdict(1, () => 2)).map((verdict) => (verdict.kind === "delay" ? verdict.ms : -1));
  assert.ok(delays.every((ms) => ms >= 40 && ms <= 50), "within [ms, ms + jitter]");
  assert.ok(new Set(delays).size > 5, "jitter varies");
  apply(rules, { op: "isolate", server: 2 });
  assert.equal(rules.verdict(2, () => 1).kind, "drop");
  assert.equal(rules.verdict(4, () => 1).kind, "delay");
  apply(rules, { op: "delay", ms: 0, jitterMs: 0 });
  assert.deepEqual(describeFaultState(rules.state), ["isolate server 2"]);
});

test("the control protocol takes each op in JSON and MessagePack, and answers in the request's format", () => {
  const valid: readonly [unknown, ControlRequest][] = [
    [{ op: "drop", from: [1], to: [2, 3] }, { op: "drop", from: [1], to: [2, 3], oneWay: false }],
    [{ op: "drop", from: [1], to: [2], oneWay: true }, { op: "drop", from: [1], to: [2], oneWay: true }],
    [{ op: "isolate", server: 5 }, { op: "isolate", server: 5 }],
    [{ op: "loss", fraction: 0.5 }, { op: "loss", fraction: 0.5, seed: 1 }],
    [{ op: "loss", fraction: 1, seed: 4294967295 }, { op: "loss", fraction: 1, seed: 4294967295 }],
    [{ op: "delay", ms: 10 }, { op: "delay", ms: 10, jitterMs: 0 }],
    [{ op: "clear" }, { op: "clear" }],
    [{ op: "rules" }, { op: "rules" }],
  ];
  for (const format of ["json", "msgpack"] as const) {
    for (const [request, expected] of valid) {
      const parsed = parse(request, format);
      assert.deepEqual(parsed, { ok: true, format, request: expected }, JSON.stringify(request));
    }
  }
  const reply = { ok: true, op: "rules", rules: ["isolate server 2"] } as const;
  assert.deepEqual(JSON.parse(encodeControlReply(reply, "json").toString()), reply);
  assert.equal(encodeControlReply(reply, "msgpack")[0], 0x83, "a MessagePack map of three fields");
});

test("the control protocol refuses anything else with a sentence", () => {
  const refusals: readonly [string, readonly Uint8Array[], RegExp][] = [
    ["no frame", [], /one frame, not 0/],
    ["two frames", [Buffer.from("{}"), Buffer.from("{}")], /one frame, not 2/],
    ["too large", [Buffer.from(JSON.stringify({ op: "rules", pad: "x".repeat(5000) }))], /at most 4096 bytes/],
    ["not JSON", [Buffer.from("{op: clear}")], /not one JSON value/],
    ["bad UTF-8", [Buffer.from([0x7b, 0xff, 0x7d])], /not one JSON value/],
    ["not MessagePack", [Buffer.from([0xc1])], /0xc1/],
    ["trailing bytes", [Buffer.concat([pack({ op: "clear" }), pack(1)])], /not one MessagePack value/],
    ["not a map", [pack(["clear"])], /not a map/],
    ["empty", [Buffer.alloc(0)], /not one MessagePack value/],
  ];
  for (const [what, frames, message] of refusals) {
    const parsed = parseControlRequest(frames, servers);
    assert.equal(parsed.ok, false, what);
    if (!parsed.ok) assert.match(parsed.message, message, what);
  }
  const badFields: readonly [unknown, RegExp][] = [
    [{}, /op must be one of/],
    [{ op: "explode" }, /op must be one of/],
    [{ op: "__proto__" }, /op must be one of/],
    [{ op: "clear", all: true }, /clear takes no field "all"/],
    [{ op: "isolate" }, /server must be a server id/],
    [{ op: "isolate", server: 6 }, /server must be a server id of the configuration \(1, 2, 3, 4, 5\)/],
    [{ op: "isolate", server: "1" }, /server must be a server id/],
    [{ op: "isolate", server: 1, sever: 2 }, /isolate takes no field "sever"/],
    [{ op: "drop", from: [], to: [2] }, /from must be a non-empty array/],
    [{ op: "drop", from: [1], to: 2 }, /to must be a non-empty array/],
    [{ op: "drop", from: [1, 1], to: [2] }, /from names a server twice/],
    [{ op: "drop", from: [1, 2], to: [2, 3] }, /server 2 is in both from and to/],
    [{ op: "drop", from: [1], to: [9] }, /each of to must be a server id/],
    [{ op: "drop", from: [1], to: [2], oneWay: "yes" }, /oneWay must be a boolean/],
    [{ op: "loss", fraction: 1.5 }, /fraction must be a number from 0 to 1/],
    [{ op: "loss", fraction: -0.1 }, /fraction must be a number from 0 to 1/],
    [{ op: "loss" }, /fraction must be a number/],
    [{ op: "loss", fraction: 0.1, seed: -1 }, /seed must be an integer/],
    [{ op: "loss", fraction: 0.1, seed: 1.5 }, /seed must be an integer/],
    [{ op: "delay" }, /ms must be an integer from 0 to 60000/],
    [{ op: "delay", ms: 60_001 }, /ms must be an integer from 0 to 60000/],
    [{ op: "delay", ms: 5, jitterMs: -1 }, /jitterMs must be an integer/],
  ];
  for (const format of ["json", "msgpack"] as const) {
    for (const [request, message] of badFields) {
      const parsed = parse(request, format);
      assert.equal(parsed.ok, false, JSON.stringify(request));
      if (!parsed.ok) assert.match(parsed.message, message, `${format} ${JSON.stringify(request)}`);
    }
  }
  // A `__proto__` field is a field like any other: refused as unknown, and no prototype is touched.
  const proto = parseControlRequest([Buffer.from('{"op":"clear","__proto__":{"op":"x"}}')], servers);
  assert.equal(proto.ok, false);
});

/**
 * A relay on loopback with the rules' filter and a publisher connected to it;
 * `subscribers` connect to it. Everything closes after the test.
 */
async function startRelay(t: TestContext, subscribers: readonly Subscriber[]): Promise<{ rules: FaultRules; relay: MessageRelay; publisher: Publisher }> {
  const xsub = createForwarderXSubscriber();
  const xpub = createForwarderXPublisher();
  await xsub.bind("tcp://127.0.0.1:*");
  await xpub.bind("tcp://127.0.0.1:*");
  const rules = new FaultRules();
  const relay = new MessageRelay(xsub, xpub, faultFilter(rules));
  const running = relay.run();
  const publisher = new Publisher({ linger: 0 });
  t.after(async () => {
    publisher.close();
    for (const subscriber of subscribers) subscriber.close();
    relay.stop();
    await running;
  });
  publisher.connect(xsub.lastEndpoint as string);
  for (const subscriber of subscribers) subscriber.connect(xpub.lastEndpoint as string);
  return { rules, relay, publisher };
}

test("the relay, given the rules' filter, drops and delays real messages and passes the rest in order", async (t) => {
  const subscriber = new Subscriber({ linger: 0, receiveTimeout: 2000 });
  const { rules, relay, publisher } = await startRelay(t, [subscriber]);
  subscriber.subscribe("raft/2/");
  subscriber.subscribe("raft/3/");
  // The slow joiner: publish until both subscriptions have reached the publisher, then drain.
  subscriber.receiveTimeout = 50;
  const joined = new Set<number>();
  for (let i = 0; i < 200 && joined.size < 2; i++) {
    await publisher.send(framesOf(vote(1, 2)));
    await publisher.send(framesOf(vote(1, 3)));
    for (let got = await subscriber.receive().catch(() => undefined); got !== undefined; got = await subscriber.receive().catch(() => undefined)) {
      joined.add(receiverOf(got[0]) as number);
    }
  }
  assert.equal(joined.size, 2, "both subscriptions took effect");
  subscriber.receiveTimeout = 2000;

  rules.addDrop({ kind: "isolate", server: 3 });
  rules.setDelay(150, 0);
  const sentAt = performance.now();
  await publisher.send(framesOf(vote(1, 3))); // dropped: to the isolated server
  await publisher.send(framesOf(heartbeat(3, 2))); // dropped: from it
  await publisher.send(framesOf(heartbeat(4, 2, 3))); // delayed
  await publisher.send(framesOf(vote(5, 2))); // delayed, after the one before
  const first = await subscriber.receive();
  const second = await subscriber.receive();
  const elapsedMs = performance.now() - sentAt;
  assert.deepEqual([senderOf(first[1]), senderOf(second[1])], [4, 5], "only the delayed messages arrive, in order");
  assert.ok(elapsedMs >= 140, `delayed by about 150 ms, took ${elapsedMs.toFixed(0)} ms`);

  rules.clear();
  await publisher.send(framesOf(vote(1, 3)));
  assert.equal(senderOf((await subscriber.receive())[1]), 1, "cleared: passes again");
  const counters = relay.counters;
  assert.equal(counters.dropped, 2);
  assert.equal(counters.delayed, 2);
});

test("the relay passes a multicast as is with no rule, sends each receiver its own copy under rules, and passes it as is again after clear", async (t) => {
  // Servers 2, 3 and 4, each subscribed as a server is: to its own topic and to the multicasts of server 1.
  const receivers = new Map([2, 3, 4].map((id) => [id, new Subscriber({ linger: 0, receiveTimeout: 50 })]));
  const { rules, relay, publisher } = await startRelay(t, [...receivers.values()]);
  for (const [id, subscriber] of receivers) {
    subscriber.subscribe(`raft/${id}/`);
    subscriber.subscribe("raft/from/1/");
  }
  const receive = (id: number): Promise<Buffer[] | undefined> => (receivers.get(id) as Subscriber).receive().catch(() => undefined);
  const shown = (frames: readonly Buffer[] | undefined): string[] | undefined => frames?.map((frame, i) => (i === 0 ? frame.toString() : frame.toString("hex")));

  // The slow joiner: publish until every subscription has reached the publisher, then drain.
  const joined = new Set<number>();
  for (let i = 0; i < 200 && joined.size < receivers.size; i++) {
    await publisher.send(multicastFrames(1, [2, 3, 4], 1));
    for (const id of receivers.keys()) while ((await receive(id)) !== undefined) joined.add(id);
  }
  assert.equal(joined.size, receivers.size, "every subscription took effect");
  assert.deepEqual([...relay.subscribedServers].sort(), [2, 3, 4], "the multicast topic counts no server");
  for (const subscriber of receivers.values()) subscriber.receiveTimeout = 2000;

  const asIs = multicastFrames(1, [2, 3, 4], 2);
  await publisher.send(asIs);
  for (const id of receivers.keys()) assert.deepEqual(shown(await receive(id)), shown(asIs), `no rule: server ${id} gets the multicast as is`);

  const before = relay.counters;
  rules.addDrop({ kind: "drop", from: [1], to: [3] });
  const split = multicastFrames(1, [2, 3, 4], 3);
  await publisher.send(split);
  const copyFor = (id: number, frames: readonly Buffer[]): string[] | undefined => shown([Buffer.from(`raft/${id}/`), ...frames.slice(1)]);
  assert.deepEqual(shown(await receive(2)), copyFor(2, split), "server 2 gets its copy on its own topic, body and stamp unchanged");
  assert.deepEqual(shown(await receive(4)), copyFor(4, split));

  rules.setDelay(150, 0);
  const sentAt = performance.now();
  const delayed = multicastFrames(1, [2, 3, 4], 4);
  await publisher.send(delayed);
  assert.deepEqual(shown(await receive(2)), copyFor(2, delayed));
  assert.deepEqual(shown(await receive(4)), copyFor(4, delayed));
  const elapsedMs = performance.now() - sentAt;
  assert.ok(elapsedMs >= 140, `both copies delayed by about 150 ms, took ${elapsedMs.toFixed(0)} ms`);

  // Server 3's next message is this one: no copy of the two before crossed the rule to it.
  rules.clear();
  const again = multicastFrames(1, [2, 3, 4], 5);
  await publisher.send(again);
  for (const id of receivers.keys()) assert.deepEqual(shown(await receive(id)), shown(again), `cleared: server ${id} gets the multicast as is again`);

  const after = relay.counters;
  assert.deepEqual(
    { messages: after.messages - before.messages, dropped: after.dropped - before.dropped, delayed: after.delayed - before.delayed },
    { messages: 3 + 3 + 1, dropped: 2, delayed: 2 },
    "each copy counts as one message, dropped or delayed on its own; a multicast passed as is counts once",
  );
});
