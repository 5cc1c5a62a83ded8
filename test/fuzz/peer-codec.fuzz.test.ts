/**
 * Property-based fuzzing of decodePeerMessage, where peer bytes enter a
 * server (docs/architecture.md §6). Anyone who reaches a forwarder can
 * publish anything, so whatever the frames the decoder never throws, and a
 * message it accepts keeps every rule the codec states: the topic and `to`
 * name this server, `from` is another known server, terms are at most 2^48,
 * and entries continue the log right after prevLogIndex with terms that
 * never decrease and never exceed the message's term (Raft paper §5.3, Log
 * Matching). Every valid message survives encode then decode unchanged,
 * the election messages of dissertation §9.6 (PreVote) and §3.10
 * (TimeoutNow, forced RequestVote) included, and InstallSnapshot and its
 * response (dissertation §5.1), whose snapshot ends at a real entry of a term
 * no later than the message's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodePeerMessage, encodePeerMessage, peerSnapshotChunkMax, peerTermMax, peerTopic } from "../../src/protocol/peer-codec.ts";
import type { Entry, Message } from "../../src/raft/index.ts";
import { anyInteger, arbitraryFrames, concatBytes, msgpackValue, mutated, normalize, pack, unpackr } from "./fuzz-support.ts";

const selfId = 1;
const known: ReadonlySet<number> = new Set([1, 2, 3, 4, 5]);
const topic = peerTopic(selfId);
const decode = (frames: readonly Uint8Array[]) => decodePeerMessage(frames, selfId, known);

const fieldsOfType: Readonly<Record<Message["type"], readonly string[]>> = {
  RequestVote: ["type", "term", "from", "to", "lastLogIndex", "lastLogTerm"],
  RequestVoteResponse: ["type", "term", "from", "to", "voteGranted"],
  PreVote: ["type", "term", "from", "to", "lastLogIndex", "lastLogTerm"],
  PreVoteResponse: ["type", "term", "from", "to", "voteGranted"],
  TimeoutNow: ["type", "term", "from", "to"],
  AppendEntries: ["type", "term", "from", "to", "prevLogIndex", "prevLogTerm", "entries", "leaderCommit", "readRound"],
  AppendEntriesResponse: ["type", "term", "from", "to", "success", "matchIndex", "rejectedIndex", "conflictTerm", "conflictIndex", "readRound"],
  InstallSnapshot: ["type", "term", "from", "to", "snapshot", "chunk", "last", "data"],
  InstallSnapshotResponse: ["type", "term", "from", "to", "snapshot", "nextChunk", "done"],
};

const isCount = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
const isTerm = (value: unknown): value is number => isCount(value) && value <= peerTermMax;
const isChunkNumber = (value: unknown): value is number => isCount(value) && value <= peerSnapshotChunkMax;

/** The codec's rules on an accepted message, and agreement with what the body says. */
function checkAccepted(message: Message, body: Uint8Array): void {
  // A RequestVote carries `forced` only when it is set (and then it is true).
  const fields = message.type === "RequestVote" && message.forced === true ? [...fieldsOfType.RequestVote, "forced"] : fieldsOfType[message.type];
  assert.deepEqual(Object.keys(message).sort(), [...fields].sort(), "only the fields of its type");
  assert.ok(isTerm(message.term), `term ${message.term}`);
  assert.ok(known.has(message.from) && message.from !== selfId, `from ${message.from}`);
  assert.equal(message.to, selfId);
  switch (message.type) {
    case "RequestVote":
    case "PreVote":
      assert.ok(isCount(message.lastLogIndex));
      assert.ok(isTerm(message.lastLogTerm) && message.lastLogTerm <= message.term);
      assert.equal(message.lastLogIndex === 0, message.lastLogTerm === 0, "an empty log has term 0, and only an empty one");
      if (message.type === "RequestVote") assert.ok(message.forced === undefined || message.forced === true);
      break;
    case "RequestVoteResponse":
    case "PreVoteResponse":
      assert.equal(typeof message.voteGranted, "boolean");
      break;
    case "TimeoutNow":
      break;
    case "AppendEntries": {
      assert.ok(isCount(message.prevLogIndex) && isCount(message.leaderCommit) && isCount(message.readRound));
      assert.ok(isTerm(message.prevLogTerm) && message.prevLogTerm <= message.term);
      assert.equal(message.prevLogIndex === 0, message.prevLogTerm === 0);
      let previousTerm = message.prevLogTerm;
      message.entries.forEach((entry, i) => {
        assert.deepEqual(Object.keys(entry).sort(), ["data", "index", "term", "type"]);
        assert.equal(entry.index, message.prevLogIndex + 1 + i, "entries are contiguous after prevLogIndex");
        assert.ok(isTerm(entry.term) && entry.term >= 1 && entry.term >= previousTerm && entry.term <= message.term, `entry term ${entry.term}`);
        previousTerm = entry.term;
        assert.ok(entry.type === "noop" || entry.type === "command");
        assert.ok(entry.data instanceof Uint8Array);
        if (entry.type === "noop") assert.equal(entry.data.length, 0);
      });
      break;
    }
    case "AppendEntriesResponse":
      assert.equal(typeof message.success, "boolean");
      for (const count of [message.matchIndex, message.rejectedIndex, message.conflictIndex, message.readRound]) assert.ok(isCount(count));
      assert.ok(isTerm(message.conflictTerm) && message.conflictTerm <= message.term);
      break;
    case "InstallSnapshot":
    case "InstallSnapshotResponse": {
      const { snapshot } = message;
      assert.deepEqual(Object.keys(snapshot).sort(), ["index", "term"]);
      assert.ok(isCount(snapshot.index) && snapshot.index >= 1, `snapshot index ${snapshot.index}`);
      assert.ok(isTerm(snapshot.term) && snapshot.term >= 1 && snapshot.term <= message.term, `snapshot term ${snapshot.term}`);
      if (message.type === "InstallSnapshot") {
        assert.ok(isChunkNumber(message.chunk));
        assert.equal(typeof message.last, "boolean");
        assert.ok(message.data instanceof Uint8Array);
      } else {
        assert.ok(isChunkNumber(message.nextChunk));
        assert.equal(typeof message.done, "boolean");
      }
      break;
    }
  }
  // What was accepted is what the body says, read by another decoder.
  const said = unpackr.unpack(body) as Map<string, unknown>;
  for (const name of fields) {
    if (name === "entries") continue;
    const value = (message as unknown as Record<string, unknown>)[name];
    // Of a snapshot's map, only the index and term are read.
    const saidValue = name === "snapshot" ? new Map(["index", "term"].map((key) => [key, (said.get(name) as Map<string, unknown>).get(key)])) : said.get(name);
    assert.deepEqual(normalize(value), normalize(saidValue), name);
  }
  if (message.type === "AppendEntries") {
    const entries = said.get("entries") as Map<string, unknown>[];
    assert.equal(message.entries.length, entries.length);
    message.entries.forEach((entry, i) => assert.deepEqual(normalize(entry.data), normalize(entries[i]?.get("data"))));
  }
  // Binary data is copied: the frame's buffer may be reused once decoded.
  const kept = keptBytes(message);
  const before = kept.map((data) => Array.from(data));
  body.fill(0);
  assert.deepEqual(
    kept.map((data) => Array.from(data)),
    before,
    "data does not alias the frame",
  );
}

/** The binary data a message carries: its entries' or its snapshot chunk's. */
function keptBytes(message: Message): readonly Uint8Array[] {
  if (message.type === "AppendEntries") return message.entries.map((entry) => entry.data);
  if (message.type === "InstallSnapshot") return [message.data];
  return [];
}

function checkDecode(frames: readonly Uint8Array[]): boolean {
  const copy = frames.map((frame) => Uint8Array.from(frame));
  const result = decode(copy);
  if (!result.ok) {
    assert.equal(typeof result.reason, "string");
    assert.ok(result.reason.length > 0 && result.reason.length <= 500, `a reason is a short sentence: ${result.reason.length} characters`);
    return false;
  }
  assert.equal(copy.length, 2);
  checkAccepted(result.message, copy[1] as Uint8Array);
  return true;
}

// ---- valid messages ------------------------------------------------------

const count = fc.oneof(fc.nat({ max: 100 }), fc.maxSafeNat());
const term = fc.oneof(fc.nat({ max: 20 }), fc.constantFrom(peerTermMax, peerTermMax - 1), fc.integer({ min: 0, max: peerTermMax }));
const from = fc.integer({ min: 2, max: 5 });
const termAtMost = (bound: number, atLeast = 0): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: atLeast, max: bound }), fc.constantFrom(atLeast, bound));
/** A log position: index 0 with term 0, or an index >= 1 with a term in 1..bound. */
const position = (bound: number): fc.Arbitrary<{ index: number; term: number }> =>
  bound === 0
    ? fc.constant({ index: 0, term: 0 })
    : fc.oneof(fc.constant({ index: 0, term: 0 }), fc.record({ index: count.filter((index) => index >= 1 && index < Number.MAX_SAFE_INTEGER - 100), term: termAtMost(bound, 1) }));

const entryData = fc.oneof(fc.uint8Array({ maxLength: 40 }), msgpackValue.map(pack));
const chunkNumber = fc.oneof(fc.nat({ max: 100 }), fc.constantFrom(peerSnapshotChunkMax), fc.integer({ min: 0, max: peerSnapshotChunkMax }));
/** The last entry a snapshot includes, in a term of at most `bound` (>= 1). */
const snapshotMeta = (bound: number): fc.Arbitrary<{ index: number; term: number }> =>
  fc.record({ index: count.filter((index) => index >= 1), term: termAtMost(bound, 1) }).map(({ index, term }) => ({ index, term }));

function entriesAfter(prevLogIndex: number, prevLogTerm: number, messageTerm: number): fc.Arbitrary<Entry[]> {
  if (messageTerm === 0) return fc.constant([]);
  return fc
    .array(fc.tuple(termAtMost(messageTerm, Math.max(prevLogTerm, 1)), fc.option(entryData, { freq: 4 })), { maxLength: 6 })
    .map((items) => {
      const terms = items.map(([entryTerm]) => entryTerm).sort((a, b) => a - b);
      return items.map(([, data], i) => ({
        index: prevLogIndex + 1 + i,
        term: terms[i] as number,
        type: data === null ? ("noop" as const) : ("command" as const),
        data: data ?? new Uint8Array(0),
      }));
    });
}

const validMessage: fc.Arbitrary<Message> = fc.tuple(term, from).chain(([t, f]): fc.Arbitrary<Message> => {
  const base = { term: t, from: f, to: selfId };
  return fc.oneof(
    fc
      .tuple(position(t), fc.boolean())
      .map(([{ index, term: lastLogTerm }, forced]) => ({ ...base, type: "RequestVote" as const, lastLogIndex: index, lastLogTerm, ...(forced ? { forced: true as const } : {}) })),
    fc.boolean().map((voteGranted) => ({ ...base, type: "RequestVoteResponse" as const, voteGranted })),
    position(t).map(({ index, term: lastLogTerm }) => ({ ...base, type: "PreVote" as const, lastLogIndex: index, lastLogTerm })),
    fc.boolean().map((voteGranted) => ({ ...base, type: "PreVoteResponse" as const, voteGranted })),
    fc.constant({ ...base, type: "TimeoutNow" as const }),
    position(t).chain(({ index, term: prevLogTerm }) =>
      fc.record({ entries: entriesAfter(index, prevLogTerm, t), leaderCommit: count, readRound: count }).map((rest) => ({
        ...base,
        type: "AppendEntries" as const,
        prevLogIndex: index,
        prevLogTerm,
        ...rest,
      })),
    ),
    fc
      .record({ success: fc.boolean(), matchIndex: count, rejectedIndex: count, conflictTerm: termAtMost(t), conflictIndex: count, readRound: count })
      .map((rest) => ({ ...base, type: "AppendEntriesResponse" as const, ...rest })),
    // A snapshot ends at an entry, of term >= 1: no snapshot message has term 0.
    ...(t === 0
      ? []
      : [
          fc
            .record({ snapshot: snapshotMeta(t), chunk: chunkNumber, last: fc.boolean(), data: entryData })
            .map((rest) => ({ ...base, type: "InstallSnapshot" as const, ...rest })),
          fc
            .record({ snapshot: snapshotMeta(t), nextChunk: chunkNumber, done: fc.boolean() })
            .map((rest) => ({ ...base, type: "InstallSnapshotResponse" as const, ...rest })),
        ]),
  );
});

/** A message as plain data, binary data as byte lists, for comparing. */
function comparableMessage(message: Message): unknown {
  if (message.type === "AppendEntries") return { ...message, entries: message.entries.map((entry) => ({ ...entry, data: Array.from(entry.data) })) };
  if (message.type === "InstallSnapshot") return { ...message, data: Array.from(message.data) };
  return { ...message };
}

test("every valid message survives encode then decode unchanged", () => {
  fc.assert(
    fc.property(validMessage, (message) => {
      const frames = encodePeerMessage(message);
      assert.deepEqual(Array.from(frames[0]), Array.from(topic));
      const result = decode([frames[0], Uint8Array.from(frames[1])]);
      assert.ok(result.ok, result.ok ? "" : `refused: ${result.reason}`);
      assert.deepEqual(comparableMessage(result.message), comparableMessage(message));
      assert.ok(checkDecode(frames), "accepted again, and by the rules");
    }),
    { seed: 0x9ee1, numRuns: 400, includeErrorInReport: true },
  );
});

// ---- hostile frames ------------------------------------------------------

/** A field value a forger might try: wrong types, negative, fractional, huge, at the bounds. */
const oddField: fc.Arbitrary<unknown> = fc.oneof(
  anyInteger,
  fc.constantFrom(peerTermMax + 1, 2 ** 53, 2 ** 53 - 1, -1, 0.5, 1.0, Number.NaN, Number.POSITIVE_INFINITY, -0),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 8 }),
  msgpackValue,
);

/** The wire body of a message, as a map of plain fields. */
function wireFields(message: Message): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...message };
  if (message.type === "AppendEntries") fields.entries = message.entries.map((entry) => ({ ...entry }));
  if (message.type === "InstallSnapshot" || message.type === "InstallSnapshotResponse") fields.snapshot = { ...message.snapshot };
  return fields;
}

type Perturbation =
  | { readonly kind: "drop"; readonly field: number }
  | { readonly kind: "swap"; readonly field: number; readonly value: unknown }
  | { readonly kind: "entry"; readonly entry: number; readonly field: "index" | "term" | "type" | "data"; readonly value: unknown; readonly drop: boolean }
  | { readonly kind: "snapshot"; readonly field: "index" | "term"; readonly value: unknown; readonly drop: boolean }
  | { readonly kind: "extra"; readonly name: string; readonly value: unknown };

const perturbation: fc.Arbitrary<Perturbation> = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), field: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), field: fc.nat(), value: oddField }),
  fc.record({ kind: fc.constant("entry" as const), entry: fc.nat(), field: fc.constantFrom("index" as const, "term" as const, "type" as const, "data" as const), value: oddField, drop: fc.boolean() }),
  fc.record({ kind: fc.constant("snapshot" as const), field: fc.constantFrom("index" as const, "term" as const), value: oddField, drop: fc.boolean() }),
  fc.record({ kind: fc.constant("extra" as const), name: fc.constantFrom("__proto__", "constructor", "entries", "snapshot", "extra", "forced"), value: oddField }),
);

function perturb(fields: Record<string, unknown>, change: Perturbation): Record<string, unknown> {
  const names = Object.keys(fields);
  const copy: Record<string, unknown> = { ...fields };
  switch (change.kind) {
    case "drop":
      delete copy[names[change.field % names.length] as string];
      return copy;
    case "swap":
      copy[names[change.field % names.length] as string] = change.value;
      return copy;
    case "entry": {
      const entries = copy.entries;
      if (!Array.isArray(entries) || entries.length === 0) return copy;
      const changed = entries.map((entry) => ({ ...(entry as object) })) as Record<string, unknown>[];
      const target = changed[change.entry % changed.length] as Record<string, unknown>;
      if (change.drop) delete target[change.field];
      else target[change.field] = change.value;
      copy.entries = changed;
      return copy;
    }
    case "snapshot": {
      if (typeof copy.snapshot !== "object" || copy.snapshot === null) return copy;
      const snapshot: Record<string, unknown> = { ...copy.snapshot };
      if (change.drop) delete snapshot[change.field];
      else snapshot[change.field] = change.value;
      copy.snapshot = snapshot;
      return copy;
    }
    case "extra":
      Object.defineProperty(copy, change.name, { value: change.value, enumerable: true, writable: true, configurable: true });
      return copy;
  }
}

const wrongTopics = ["raft/10/", "raft/1", "raft/2/", "raft/1//", "RAFT/1/", ""].map((text) => new TextEncoder().encode(text));

const hostileFrames: fc.Arbitrary<Uint8Array[]> = fc.oneof(
  arbitraryFrames,
  fc.uint8Array({ maxLength: 256 }).map((body) => [topic, body]),
  msgpackValue.map((value) => [topic, pack(value)]),
  fc
    .tuple(validMessage, fc.array(perturbation, { minLength: 1, maxLength: 3 }))
    .map(([message, changes]) => [topic, pack(changes.reduce(perturb, wireFields(message)))]),
  mutated(validMessage.map((message) => encodePeerMessage(message)[1])).map((body) => [topic, body]),
  fc.tuple(fc.constantFrom(...wrongTopics), validMessage).map(([wrong, message]) => [wrong, encodePeerMessage(message)[1]]),
  fc.tuple(validMessage, fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([message, extra]) => [...encodePeerMessage(message), extra]),
  validMessage.map((message) => [topic, concatBytes(encodePeerMessage(message)[1], Uint8Array.of(0xc0))]),
);

test("decodePeerMessage never throws on hostile frames, and what it accepts keeps the codec's rules", () => {
  let accepted = 0;
  fc.assert(
    fc.property(hostileFrames, (frames) => {
      if (checkDecode(frames)) accepted++;
    }),
    { seed: 0x9ee2, numRuns: 500, includeErrorInReport: true },
  );
  assert.ok(accepted > 0, "some perturbed messages stay valid, so the rules above were exercised");
});

test("messages addressed elsewhere, from this server itself or from a stranger, or with terms past 2^48 are refused", () => {
  fc.assert(
    fc.property(
      validMessage,
      fc.constantFrom(
        { to: 2 },
        { from: selfId },
        { from: 6 },
        { from: 0 },
        { term: peerTermMax + 1 },
        { term: Number.MAX_SAFE_INTEGER },
      ),
      (message, change) => {
        const forged = { ...wireFields(message), ...change };
        assert.equal(checkDecode([topic, pack(forged)]), false);
      },
    ),
    { seed: 0x9ee3, numRuns: 300, includeErrorInReport: true },
  );
});
