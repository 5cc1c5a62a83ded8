/**
 * The peer codec: every Raft message type survives the wire unchanged, and
 * no bytes a peer (or anyone on the forwarder) can publish get past
 * decodePeerMessage() unless they form a valid message for this server.
 * Malformed input is rejected with a reason and never throws: hand-written
 * cases for each rule, then seeded fuzzing with random bytes, random
 * MessagePack values and mutations of valid messages. Entry rules follow the
 * Log Matching property (Raft paper §5.3): contiguous indices, terms
 * non-decreasing and never above the leader's term. The election messages
 * (PreVote, dissertation §9.6; TimeoutNow and forced RequestVote,
 * dissertation §3.10) follow the same rules as RequestVote's. InstallSnapshot
 * and its response (dissertation §5.1) name a snapshot that ends at a real
 * entry of a term no later than the message's, and carry one chunk of it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { encodeSnapshotChunks, snapshotChunkBytes } from "../../src/kv/kv-snapshot.ts";
import { keyBytesMax, valueBytesMax } from "../../src/protocol/limits.ts";
import {
  decodePeerMessage,
  encodePeerMessage,
  encodePeerMulticast,
  peerBodyBytesMax,
  peerSnapshotChunkMax,
  peerTermMax,
  peerTopic,
  type PeerDecodeResult,
} from "../../src/protocol/peer-codec.ts";
import { SeededRandom } from "../../src/raft/index.ts";
import type {
  AppendEntries,
  AppendEntriesResponse,
  Entry,
  InstallSnapshot,
  InstallSnapshotResponse,
  Message,
  PreVote,
  PreVoteResponse,
  RequestVote,
  RequestVoteResponse,
  TimeoutNow,
} from "../../src/raft/index.ts";

const known: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 10]);
const packr = new Packr({ useRecords: false });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const requestVote: RequestVote = { type: "RequestVote", term: 7, from: 3, to: 1, lastLogIndex: 12, lastLogTerm: 6 };
const requestVoteResponse: RequestVoteResponse = { type: "RequestVoteResponse", term: 7, from: 2, to: 1, voteGranted: true };
const forcedRequestVote: RequestVote = { ...requestVote, forced: true };
const preVote: PreVote = { type: "PreVote", term: 8, from: 3, to: 1, lastLogIndex: 12, lastLogTerm: 6 };
const preVoteResponse: PreVoteResponse = { type: "PreVoteResponse", term: 8, from: 2, to: 1, voteGranted: false };
const timeoutNow: TimeoutNow = { type: "TimeoutNow", term: 7, from: 2, to: 1 };
const entries: Entry[] = [
  { index: 11, term: 5, type: "command", data: bytes("put a 1") },
  { index: 12, term: 7, type: "noop", data: new Uint8Array(0) },
  { index: 13, term: 7, type: "command", data: new Uint8Array([0, 255, 128, 1]) },
];
const appendEntries: AppendEntries = {
  type: "AppendEntries",
  term: 7,
  from: 2,
  to: 1,
  prevLogIndex: 10,
  prevLogTerm: 5,
  entries,
  leaderCommit: 9,
  readRound: 4,
};
const heartbeat: AppendEntries = { ...appendEntries, entries: [], prevLogIndex: 0, prevLogTerm: 0 };
const appendEntriesResponse: AppendEntriesResponse = {
  type: "AppendEntriesResponse",
  term: 7,
  from: 4,
  to: 1,
  success: false,
  matchIndex: 0,
  rejectedIndex: 10,
  conflictTerm: 3,
  conflictIndex: 8,
  readRound: 4,
};
const installSnapshot: InstallSnapshot = {
  type: "InstallSnapshot",
  term: 7,
  from: 2,
  to: 1,
  snapshot: { index: 40, term: 6 },
  chunk: 3,
  last: false,
  data: new Uint8Array([0x81, 0xa1, 0x61, 0x01, 0, 255]),
};
const installSnapshotResponse: InstallSnapshotResponse = {
  type: "InstallSnapshotResponse",
  term: 7,
  from: 3,
  to: 1,
  snapshot: { index: 40, term: 6 },
  nextChunk: 4,
  done: false,
};
/** One of each type, every field required. */
const samples: readonly Message[] = [
  requestVote,
  requestVoteResponse,
  preVote,
  preVoteResponse,
  timeoutNow,
  appendEntries,
  heartbeat,
  appendEntriesResponse,
  installSnapshot,
  installSnapshotResponse,
];

/** Entry and chunk data come back as Buffers; compare them as plain bytes. */
function plain(message: Message): unknown {
  if (message.type === "InstallSnapshot") return { ...message, data: Array.from(message.data) };
  if (message.type !== "AppendEntries") return { ...message };
  return { ...message, entries: message.entries.map((e) => ({ ...e, data: Array.from(e.data) })) };
}

function decodeAs1(frames: readonly Uint8Array[]): PeerDecodeResult {
  return decodePeerMessage(frames, 1, known);
}

/** A hand-made body, encoded as a peer might send it. */
function framesWithBody(body: unknown, to = 1): Uint8Array[] {
  return [peerTopic(to), packr.pack(body)];
}

function assertRejected(result: PeerDecodeResult, reasonPart: string | RegExp): void {
  assert.equal(result.ok, false, `expected a rejection mentioning ${String(reasonPart)}`);
  if (result.ok) return;
  if (typeof reasonPart === "string") assert.ok(result.reason.includes(reasonPart), `reason "${result.reason}" lacks "${reasonPart}"`);
  else assert.match(result.reason, reasonPart);
}

test("every message type survives a round trip", () => {
  for (const message of [...samples, forcedRequestVote]) {
    const frames = encodePeerMessage(message);
    assert.equal(frames.length, 2);
    assert.equal(new TextDecoder().decode(frames[0]), `raft/${message.to}/`);
    const result = decodeAs1(frames);
    assert.ok(result.ok, result.ok ? "" : result.reason);
    assert.deepEqual(plain(result.message), plain(message));
  }
});

test("forced is on the wire only when set, and only true is accepted", () => {
  const [, plainBody] = encodePeerMessage(requestVote);
  assert.ok(!Buffer.from(plainBody).toString("latin1").includes("forced"), "an ordinary RequestVote's bytes are unchanged");
  const [, forcedBody] = encodePeerMessage(forcedRequestVote);
  assert.ok(Buffer.from(forcedBody).toString("latin1").includes("forced"));
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, forced: false })), "RequestVote.forced is false, not true");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, forced: 1 })), "RequestVote.forced is 1, not true");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, forced: null })), "RequestVote.forced is nil");
  // Only RequestVote has the field: elsewhere it is not read, and not kept.
  const preVoteWithForced = decodeAs1(framesWithBody({ ...preVote, forced: true }));
  assert.ok(preVoteWithForced.ok);
  assert.deepEqual(preVoteWithForced.message, preVote);
  const timeoutNowWithExtra = decodeAs1(framesWithBody({ ...timeoutNow, forced: true, lastLogIndex: 3 }));
  assert.ok(timeoutNowWithExtra.ok);
  assert.deepEqual(timeoutNowWithExtra.message, timeoutNow);
});

test("election messages: PreVote's log position, responses' booleans, TimeoutNow's ids and term", () => {
  assertRejected(decodeAs1(framesWithBody({ ...preVote, lastLogTerm: 9 })), "PreVote.lastLogTerm 9 is above the message term 8");
  assertRejected(decodeAs1(framesWithBody({ ...preVote, lastLogIndex: 0 })), "PreVote.lastLogTerm 6 does not fit lastLogIndex 0");
  assertRejected(decodeAs1(framesWithBody({ ...preVote, term: peerTermMax + 1 })), "PreVote.term");
  assertRejected(decodeAs1(framesWithBody({ ...preVoteResponse, voteGranted: "yes" })), 'PreVoteResponse.voteGranted is "yes", not a boolean');
  assertRejected(decodeAs1(framesWithBody({ ...timeoutNow, from: 9 })), "TimeoutNow.from 9 is not a server of this cluster");
  assertRejected(decodeAs1(framesWithBody({ ...timeoutNow, from: 1 })), "TimeoutNow.from is this server's own id 1");
  assertRejected(decodeAs1(framesWithBody({ ...timeoutNow, term: -1 })), "TimeoutNow.term is -1");
  const atBound = decodeAs1(framesWithBody({ ...preVote, term: peerTermMax }));
  assert.ok(atBound.ok, "a pre-vote for the bound itself is well-formed; the core decides");
});

test("only the fields of the message type go on the wire", () => {
  const withExtra = { ...requestVoteResponse, secret: "not for the wire" } as RequestVoteResponse;
  const [, body] = encodePeerMessage(withExtra);
  assert.ok(!Buffer.from(body).toString("latin1").includes("secret"));
});

test("decoded entry data does not share memory with the received frame", () => {
  const frames = encodePeerMessage(appendEntries);
  const result = decodeAs1(frames);
  assert.ok(result.ok && result.message.type === "AppendEntries");
  const data = result.message.entries[0]!.data;
  frames[1].fill(0);
  assert.deepEqual(Array.from(data), Array.from(bytes("put a 1")));
});

test("server 1 does not accept a message addressed to server 10 (no prefix match)", () => {
  const toTen = encodePeerMessage({ ...requestVote, to: 10 });
  assertRejected(decodeAs1(toTen), 'topic "raft/10/" is neither raft/1/ nor');
  assertRejected(decodeAs1([peerTopic(1), toTen[1]]), "to 10 is not this server");
});

test("a multicast reaches each server it lists, on the sender's topic or its own, and no other", () => {
  const fromTwo: AppendEntries = { ...appendEntries, from: 2 };
  const frames = encodePeerMulticast(fromTwo, [1, 3, 10]);
  assert.equal(new TextDecoder().decode(frames[0]), "raft/from/2/");
  for (const receiver of [1, 3, 10]) {
    const result = decodePeerMessage(frames, receiver, known);
    assert.ok(result.ok, result.ok ? "" : result.reason);
    assert.deepEqual(plain(result.message), plain({ ...fromTwo, to: receiver }));
  }
  // A forwarder judging each receiver's copy (docs/protocol.md §11) sends it on the receiver's own topic.
  const copy = decodeAs1([peerTopic(1), frames[1]]);
  assert.ok(copy.ok && copy.message.to === 1);
  const notListed = decodePeerMessage(frames, 4, known);
  assert.ok(!notListed.ok && notListed.forOthers, "a multicast to others is not invalid");
  assertRejected(decodePeerMessage([peerTopic(4), frames[1]], 4, known), "not this server (4), on this server's own topic");
  const invalid = decodeAs1([bytes("raft/from/3/"), frames[1]]);
  assert.ok(!invalid.ok && !invalid.forOthers);
});

test("a multicast's topic and receivers are checked", () => {
  const fromTwo = { ...appendEntries, from: 2 };
  const multicast = (body: unknown, topic = "raft/from/2/"): PeerDecodeResult => decodeAs1([bytes(topic), packr.pack(body)]);
  assertRejected(multicast({ ...fromTwo, to: [1, 3] }, "raft/from/3/"), "AppendEntries.from 2 is not the sender 3 its topic names");
  for (const topic of ["raft/from/02/", "raft/from/x/", "raft/from//", "raft/from/2", "raft/from/2/3/", "raft/fro/2/", "raft/from/99999999999999999/"]) {
    assertRejected(multicast({ ...fromTwo, to: [1, 3] }, topic), "is neither raft/1/ nor");
  }
  assertRejected(multicast({ ...fromTwo, to: 1 }), "AppendEntries.to is 1, not the list of receivers a multicast carries");
  assertRejected(multicast({ ...fromTwo, to: [] }), "AppendEntries.to is an empty list");
  assertRejected(multicast({ ...fromTwo, to: [1, 3, 1] }), "AppendEntries.to names server 1 twice");
  assertRejected(multicast({ ...fromTwo, to: [1, 2] }), "AppendEntries.to[1] 2 cannot receive a message from 2");
  assertRejected(multicast({ ...fromTwo, to: [0, 1] }), "AppendEntries.to[0] 0 cannot receive");
  assertRejected(multicast({ ...fromTwo, to: [1, "3"] }), 'AppendEntries.to[1] is "3", not a non-negative integer');
  assertRejected(multicast({ ...fromTwo, to: [1, -3] }), "AppendEntries.to[1] is -3");
  const { to: _to, ...withoutTo } = fromTwo;
  assertRejected(multicast(withoutTo), "AppendEntries.to is missing");
  assertRejected(decodeAs1(framesWithBody({ ...fromTwo, to: [3, 4] })), "not this server (1), on this server's own topic");
});

test("frames: wrong count, wrong topic, bad body bytes", () => {
  const [topic, body] = encodePeerMessage(requestVote);
  assertRejected(decodeAs1([]), "expected 2 frames");
  assertRejected(decodeAs1([body]), "expected 2 frames");
  assertRejected(decodeAs1([topic, body, body]), "expected 2 frames");
  assertRejected(decodeAs1([bytes("raft/1"), body]), "topic");
  assertRejected(decodeAs1([bytes("raft/1//"), body]), "topic");
  assertRejected(decodeAs1([new Uint8Array(100_000).fill(0x41), body]), "…");
  assertRejected(decodeAs1([topic, new Uint8Array(0)]), "not one MessagePack value");
  assertRejected(decodeAs1([topic, body.subarray(0, body.length - 3)]), "not one MessagePack value");
  assertRejected(decodeAs1([topic, Buffer.concat([body, Buffer.from([0xc0])])]), "not one MessagePack value");
  assertRejected(decodeAs1([topic, Buffer.from([0xc1])]), "0xc1 is never used");
  // A nesting far deeper than the stack: must be a rejection, not a crash.
  assertRejected(decodeAs1([topic, new Uint8Array(1_000_000).fill(0x91)]), "deeper than the 3 levels");
});

test("size and shape are checked on the raw bytes before anything is decoded", () => {
  // Millions of empty maps where entries belong: one pass over the bytes, no allocation, then refused.
  const manyMaps = Buffer.concat([Buffer.from([0x81, 0xa7]), Buffer.from("entries"), Buffer.from([0xdd, 0x00, 0x40, 0x00, 0x00]), Buffer.alloc(4 * 1024 * 1024, 0x80)]);
  assertRejected(decodeAs1([peerTopic(1), manyMaps]), "array of 4194304 items, more than the 8192");
  const manyFields = packr.pack(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`f${i}`, i])));
  assertRejected(decodeAs1([peerTopic(1), manyFields]), "map of 17 items");
  assertRejected(decodeAs1([peerTopic(1), new Uint8Array(peerBodyBytesMax + 1)]), `more than the ${peerBodyBytesMax}`);
  const [, body] = encodePeerMessage(appendEntries);
  assert.ok(body.length < peerBodyBytesMax);
});

test("body: not a map, unknown type, missing fields", () => {
  assertRejected(decodeAs1(framesWithBody([1, 2, 3])), "body is an array of 3, not a map");
  assertRejected(decodeAs1(framesWithBody("RequestVote")), "not a map");
  assertRejected(decodeAs1(framesWithBody(null)), "body is nil");
  assertRejected(decodeAs1(framesWithBody(new Map([[1, 2]]))), "not a Raft message type");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, type: "ReadIndex" })), 'type "ReadIndex"');
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, type: undefined })), "type missing");
  for (const message of samples) {
    for (const key of Object.keys(message)) {
      if (key === "type") continue;
      const body: Record<string, unknown> = { ...message };
      delete body[key];
      assertRejected(decodeAs1(framesWithBody(body)), `${message.type}.${key} is missing`);
    }
  }
});

test("numbers: negative, fractional, strings, beyond 2^53, terms beyond the bound", () => {
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, term: -1 })), "RequestVote.term is -1, not a non-negative integer");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, term: 1.5 })), "not a non-negative integer");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, term: "7" })), 'RequestVote.term is "7"');
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, term: 2 ** 53 })), "not a non-negative integer");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, term: 2n ** 64n - 1n })), "RequestVote.term is 18446744073709551615n");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, term: peerTermMax + 1 })), "above the bound 2^48");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, lastLogIndex: Number.NaN })), "lastLogIndex is NaN");
  assertRejected(decodeAs1(framesWithBody({ ...appendEntriesResponse, matchIndex: Infinity })), "matchIndex is Infinity");
  assertRejected(decodeAs1(framesWithBody({ ...appendEntries, readRound: -3 })), "readRound is -3");
  const atBound = decodeAs1(framesWithBody({ ...requestVoteResponse, term: peerTermMax }));
  assert.ok(atBound.ok, "a term of exactly 2^48 is still accepted");
});

test("ids: unknown sender, sender is self, wrong recipient", () => {
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, from: 9 })), "from 9 is not a server of this cluster");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, from: 1 })), "from is this server's own id 1");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, from: 0 })), "from 0 is not a server");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, to: 2 })), "to 2 is not this server (1)");
});

test("booleans must be booleans", () => {
  assertRejected(decodeAs1(framesWithBody({ ...requestVoteResponse, voteGranted: 1 })), "voteGranted is 1, not a boolean");
  assertRejected(decodeAs1(framesWithBody({ ...appendEntriesResponse, success: "true" })), "success");
});

test("terms inside a message cannot exceed the message term", () => {
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, lastLogTerm: 8 })), "lastLogTerm 8 is above the message term 7");
  assertRejected(decodeAs1(framesWithBody({ ...appendEntries, prevLogTerm: 9 })), "prevLogTerm 9 is above");
  assertRejected(decodeAs1(framesWithBody({ ...appendEntriesResponse, conflictTerm: 8 })), "conflictTerm 8 is above");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, lastLogIndex: 0, lastLogTerm: 3 })), "does not fit lastLogIndex 0");
  assertRejected(decodeAs1(framesWithBody({ ...requestVote, lastLogIndex: 4, lastLogTerm: 0 })), "does not fit");
  assertRejected(decodeAs1(framesWithBody({ ...appendEntries, prevLogIndex: 0 })), "prevLogTerm 5 does not fit prevLogIndex 0");
});

test("entries: shape, contiguity and terms (§5.3)", () => {
  const withEntries = (list: unknown, overrides: Record<string, unknown> = {}): PeerDecodeResult =>
    decodeAs1(framesWithBody({ ...appendEntries, ...overrides, entries: list }));
  const entry = (index: number, term: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    index,
    term,
    type: "command",
    data: new Uint8Array([1]),
    ...extra,
  });
  assertRejected(withEntries(undefined), "entries is missing, not an array");
  assertRejected(withEntries({ 0: entry(11, 5) }), "entries is a map, not an array");
  assertRejected(withEntries([7]), "entries[0] is 7, not a map");
  assertRejected(withEntries([entry(12, 5)]), "entries[0].index 12 should be 11");
  assertRejected(withEntries([entry(11, 5), entry(13, 5)]), "entries[1].index 13 should be 12");
  assertRejected(withEntries([entry(11, 5), entry(11, 5)]), "entries[1].index 11 should be 12");
  assertRejected(withEntries([entry(11, 8)]), "entries[0].term 8 is above the message term 7");
  assertRejected(withEntries([entry(11, 6), entry(12, 5)]), "entries[1].term 5 is below the term 6 before it");
  assertRejected(withEntries([entry(11, 4)]), "entries[0].term 4 is below the term 5 before it");
  assertRejected(withEntries([entry(1, 0)], { prevLogIndex: 0, prevLogTerm: 0 }), "entries[0].term is 0");
  assertRejected(withEntries([entry(11, 5, { type: "snapshot" })]), 'entries[0].type "snapshot" is not "noop", "command" or "config"');
  assertRejected(withEntries([entry(11, 5, { type: undefined })]), "entries[0].type missing");
  assertRejected(withEntries([entry(11, 5, { data: "put a 1" })]), 'entries[0].data is "put a 1", not binary');
  assertRejected(withEntries([entry(11, 5, { data: 5 })]), "entries[0].data is 5, not binary");
  // An array where binary belongs is deeper than any message nests: refused before decoding.
  assertRejected(withEntries([entry(11, 5, { data: [1, 2] })]), "deeper than the 3 levels");
  assertRejected(withEntries([entry(11, 5, { data: undefined })]), "entries[0].data is missing");
  assertRejected(withEntries([entry(11, 5, { type: "noop" })]), "entries[0] is a noop with 1 bytes of data");
  assertRejected(withEntries([entry(11, 5, { index: "11" })]), 'entries[0].index is "11"');
});

test("InstallSnapshot and its response: the snapshot's position, chunk numbers, flags and data", () => {
  const withSnapshot = (message: Message, snapshot: unknown): PeerDecodeResult => decodeAs1(framesWithBody({ ...message, snapshot }));
  for (const message of [installSnapshot, installSnapshotResponse]) {
    const type = message.type;
    assertRejected(withSnapshot(message, { index: 40, term: 8 }), `${type}.snapshot.term 8 is above the message term 7`);
    assertRejected(withSnapshot(message, { index: 0, term: 6 }), `${type}.snapshot.index is 0`);
    assertRejected(withSnapshot(message, { index: 40, term: 0 }), `${type}.snapshot.term is 0`);
    assertRejected(withSnapshot(message, { index: -1, term: 6 }), `${type}.snapshot.index is -1, not a non-negative integer`);
    assertRejected(withSnapshot(message, { index: 40 }), `${type}.snapshot.term is missing`);
    assertRejected(withSnapshot(message, { term: 6 }), `${type}.snapshot.index is missing`);
    assertRejected(withSnapshot(message, [40, 6]), `${type}.snapshot is an array of 2, not a map`);
    assertRejected(withSnapshot(message, 40), `${type}.snapshot is 40, not a map`);
    assertRejected(decodeAs1(framesWithBody({ ...message, term: 0, snapshot: { index: 40, term: 0 } })), `${type}.snapshot.term is 0`);
    const { term: _term, ...withoutTerm } = message.snapshot;
    assertRejected(decodeAs1(framesWithBody({ ...message, snapshot: withOwnKey({ ...withoutTerm }, "__proto__", { term: 6 }) })), `${type}.snapshot.term is missing`);
    // Fields beside a snapshot's index and term are not read, and not kept.
    const extra = withSnapshot(message, { index: 40, term: 6, chunks: 9 });
    assert.ok(extra.ok);
    assert.deepEqual(plain(extra.message), plain(message));
  }
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshot, chunk: -1 })), "InstallSnapshot.chunk is -1, not a non-negative integer");
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshot, chunk: 0.5 })), "InstallSnapshot.chunk is 0.5");
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshot, chunk: peerSnapshotChunkMax + 1 })), "InstallSnapshot.chunk 4294967295 is above the bound");
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshotResponse, nextChunk: -2 })), "InstallSnapshotResponse.nextChunk is -2");
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshotResponse, nextChunk: 2 ** 53 })), "InstallSnapshotResponse.nextChunk is 9007199254740992");
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshot, last: 1 })), "InstallSnapshot.last is 1, not a boolean");
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshotResponse, done: "yes" })), 'InstallSnapshotResponse.done is "yes", not a boolean');
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshot, data: "chunk" })), 'InstallSnapshot.data is "chunk", not binary');
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshot, data: [1, 2] })), "InstallSnapshot.data is an array of 2, not binary");
  assertRejected(decodeAs1(framesWithBody({ ...installSnapshot, data: null })), "InstallSnapshot.data is nil, not binary");
  for (const [message, chunkField] of [
    [installSnapshot, "chunk"],
    [installSnapshotResponse, "nextChunk"],
  ] as const) {
    const atBound = decodeAs1(framesWithBody({ ...message, [chunkField]: peerSnapshotChunkMax }));
    assert.ok(atBound.ok, `${chunkField} at the bound is accepted`);
  }
  const empty = decodeAs1(encodePeerMessage({ ...installSnapshot, data: new Uint8Array(0), last: true }));
  assert.ok(empty.ok && empty.message.type === "InstallSnapshot" && empty.message.data.length === 0 && empty.message.last);
});

test("a snapshot chunk does not share memory with the received frame", () => {
  const frames = encodePeerMessage(installSnapshot);
  const result = decodeAs1(frames);
  assert.ok(result.ok && result.message.type === "InstallSnapshot");
  frames[1].fill(0);
  assert.deepEqual(Array.from(result.message.data), Array.from(installSnapshot.data));
});

test("the largest chunk of a KV snapshot fits in one message: 1 MiB, then the largest key and value", () => {
  const image = {
    entries: [
      ["a", new Uint8Array(snapshotChunkBytes - 100).fill(1)],
      ["b".repeat(keyBytesMax), new Uint8Array(valueBytesMax).fill(2)],
    ] as [string, Uint8Array][],
    sessions: [],
    clockMs: 0,
  };
  const [chunk] = encodeSnapshotChunks(image);
  assert.ok(chunk !== undefined && chunk.length > snapshotChunkBytes + valueBytesMax, `a chunk of ${chunk?.length} bytes`);
  const message: InstallSnapshot = { ...installSnapshot, chunk: peerSnapshotChunkMax, data: chunk };
  const frames = encodePeerMessage(message);
  assert.ok(frames[1].length <= peerBodyBytesMax);
  const result = decodeAs1(frames);
  assert.ok(result.ok, result.ok ? "" : result.reason);
  assert.deepEqual(plain(result.message), plain(message));
});

/** An object with an own `__proto__` key (plain assignment would set the prototype instead). */
function withOwnKey(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  return Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

test("a __proto__ key neither mutates a prototype nor passes for a field", () => {
  const { term: _term, ...withoutTerm } = requestVoteResponse;
  const body = packr.pack(withOwnKey({ ...withoutTerm }, "__proto__", { term: 7, polluted: true }));
  assert.ok(Buffer.from(body).toString("latin1").includes("__proto__"), "the key really is on the wire");
  assertRejected(decodeAs1([peerTopic(1), body]), "RequestVoteResponse.term is missing");
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "term"), false);
});

test("fuzz: random bytes never throw and never decode", () => {
  const random = new SeededRandom(20240601);
  for (let i = 0; i < 5000; i++) {
    const length = random.intBetween(0, 64);
    const body = new Uint8Array(length);
    for (let j = 0; j < length; j++) body[j] = random.intBetween(0, 255);
    const frames = random.next() < 0.9 ? [peerTopic(1), body] : [body];
    assert.equal(decodeAs1(frames).ok, false);
  }
});

test("fuzz: random MessagePack values and mutated valid messages never throw", () => {
  const random = new SeededRandom(77);
  const keys = ["type", "term", "from", "to", "entries", "index", "data", "success", "voteGranted", "forced", "snapshot", "chunk", "last", "__proto__", "constructor"];
  const randomValue = (depth: number): unknown => {
    switch (random.intBetween(0, depth > 3 ? 6 : 9)) {
      case 0:
        return null;
      case 1:
        return random.next() < 0.5;
      case 2:
        return random.intBetween(-5, 20);
      case 3:
        return [2 ** 53, 2 ** 48 + 1, -0, 0.5, Number.NaN, 2n ** 63n][random.intBetween(0, 5)];
      case 4:
        return [
          "RequestVote",
          "AppendEntries",
          "AppendEntriesResponse",
          "RequestVoteResponse",
          "PreVote",
          "PreVoteResponse",
          "TimeoutNow",
          "InstallSnapshot",
          "InstallSnapshotResponse",
          "noop",
          "command",
          "",
        ][random.intBetween(0, 11)];
      case 5:
        return new Uint8Array(random.intBetween(0, 4));
      case 6:
        return new Date(0);
      case 7:
        return Array.from({ length: random.intBetween(0, 4) }, () => randomValue(depth + 1));
      default: {
        const map: Record<string, unknown> = {};
        for (let k = random.intBetween(0, 8); k > 0; k--) withOwnKey(map, keys[random.intBetween(0, keys.length - 1)]!, randomValue(depth + 1));
        return map;
      }
    }
  };
  for (let i = 0; i < 5000; i++) {
    const value = randomValue(0);
    assert.doesNotThrow(() => decodeAs1(framesWithBody(value)));
  }
  // Mutations of valid encodings: any that still decode must be valid messages that round-trip.
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    const sample = samples[random.intBetween(0, samples.length - 1)]!;
    const body = Buffer.from(encodePeerMessage(sample)[1]);
    const mutation = random.intBetween(0, 2);
    let mutated: Uint8Array;
    if (mutation === 0) {
      mutated = body.subarray(0, random.intBetween(0, body.length));
    } else {
      mutated = body;
      for (let flips = random.intBetween(1, 3); flips > 0; flips--) mutated[random.intBetween(0, body.length - 1)] = random.intBetween(0, 255);
      if (mutation === 2) mutated = Buffer.concat([mutated, Buffer.from([random.intBetween(0, 255)])]);
    }
    const result = decodeAs1([peerTopic(1), mutated]);
    if (result.ok) {
      accepted++;
      const again = decodeAs1(encodePeerMessage(result.message));
      assert.ok(again.ok);
      assert.deepEqual(plain(again.message), plain(result.message));
    }
  }
  assert.ok(accepted < 10_000);
});

test("figure: encode + decode of an AppendEntries with 1000 entries of 100 bytes", (t) => {
  const big: AppendEntries = {
    ...appendEntries,
    prevLogIndex: 1000,
    prevLogTerm: 7,
    entries: Array.from({ length: 1000 }, (_, i) => ({ index: 1001 + i, term: 7, type: "command" as const, data: new Uint8Array(100).fill(i) })),
  };
  const rounds = 50;
  let result: PeerDecodeResult | undefined;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) result = decodeAs1(encodePeerMessage(big));
  const msPerRound = (performance.now() - started) / rounds;
  assert.ok(result?.ok && result.message.type === "AppendEntries" && result.message.entries.length === 1000);
  t.diagnostic(`${msPerRound.toFixed(2)} ms per encode + decode of 1000 entries of 100 bytes (${encodePeerMessage(big)[1].length} bytes)`);
});
