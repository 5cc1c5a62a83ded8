/**
 * The forwarder's fault injection in-process (docs/protocol.md §11): the
 * rules drop and delay exactly the messages they name, read the sender only
 * when a rule needs it, and repeat with their seed; the addressing of a
 * real peer message is read without decoding it, and malformed bytes give
 * "unknown", never an exception; the control protocol takes valid requests
 * in JSON and MessagePack and refuses everything else with a sentence; and
 * the relay, given the rules' filter, drops and delays real messages.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { pack } from "msgpackr";
import { Publisher, Subscriber } from "zeromq";
import { applyControlRequest } from "../../forwarder/control-socket.ts";
import { encodeControlReply, parseControlRequest, type ControlRequest } from "../../forwarder/control-protocol.ts";
import { FaultRules, describeFaultState, faultFilter } from "../../forwarder/fault-rules.ts";
import { MessageRelay } from "../../forwarder/message-relay.ts";
import { receiverOf, senderOf } from "../../forwarder/peer-addressing.ts";
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

test("the relay, given the rules' filter, drops and delays real messages and passes the rest in order", async (t) => {
  const xsub = createForwarderXSubscriber();
  const xpub = createForwarderXPublisher();
  await xsub.bind("tcp://127.0.0.1:*");
  await xpub.bind("tcp://127.0.0.1:*");
  const rules = new FaultRules();
  const relay = new MessageRelay(xsub, xpub, faultFilter(rules));
  const running = relay.run();
  const publisher = new Publisher({ linger: 0 });
  const subscriber = new Subscriber({ linger: 0, receiveTimeout: 2000 });
  t.after(async () => {
    publisher.close();
    subscriber.close();
    relay.stop();
    await running;
  });
  publisher.connect(xsub.lastEndpoint as string);
  subscriber.connect(xpub.lastEndpoint as string);
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
