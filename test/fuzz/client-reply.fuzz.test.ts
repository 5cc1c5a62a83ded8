/**
 * Property-based fuzzing of the reply path (docs/protocol.md §5): what the
 * server's encodeReply writes, the client library's decodeReply and
 * checkReply read back field for field, stored values and `rid` included,
 * which travel as the client's raw MessagePack bytes (§7) and must decode to
 * the same values: maps with `__proto__` keys, binaries, 64-bit integers.
 * And whatever bytes a client receives, decodeReply and checkReply answer
 * with a sentence instead of throwing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeReply, type ReplyFields } from "../../src/client/client-codec.ts";
import { checkReply, type ClientOp } from "../../src/client/reply-shapes.ts";
import { compactedReply, encodeReply, errorReply, okReply, type ErrorReply, type OkFields, type ReplyContext } from "../../src/protocol/client-reply.ts";
import { errorCodes, type ErrorCode } from "../../src/protocol/errors.ts";
import { okReplyShape } from "../../src/protocol/reply-fields.ts";
import { arbitraryFrames, msgpackValue, mutated, normalize, pack } from "./fuzz-support.ts";

const clientOps: readonly ClientOp[] = ["get", "put", "delete", "cas", "list", "status", "admin", "watch"];

/** A stored value: what the client sent (to compare with) and its raw bytes (what the server holds). */
interface Stored {
  readonly sent: unknown;
  readonly raw: Uint8Array;
}
const stored: fc.Arbitrary<Stored> = msgpackValue.map((sent) => ({ sent, raw: pack(sent) }));
const optionalStored: fc.Arbitrary<Stored | null> = fc.option(stored, { freq: 4 });

const count = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat());
const serverId = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const text = fc.string({ unit: "binary", maxLength: 60 });

/** A configuration in a reply: ids with an endpoint (or none known) and whether each votes. */
const members = fc.array(
  fc.record({ id: serverId, client: fc.option(text), voter: fc.boolean() }).map((member) => ({ ...member })),
  { maxLength: 8 },
);

const context: fc.Arbitrary<ReplyContext & { readonly sentRid: Stored | null }> = fc
  .record({ term: count, leaderId: fc.option(serverId), leader: fc.option(text, { nil: undefined }), rid: optionalStored })
  .map(({ term, leaderId, leader, rid }) => ({ term, leaderId, rid: rid?.raw ?? null, sentRid: rid, ...(leader === undefined ? {} : { leader }) }));

/** One change of a watch reply, its value (a put's) as sent. */
type EventModel = { readonly index: number; readonly type: "put"; readonly key: string; readonly value: Stored } | { readonly index: number; readonly type: "delete"; readonly key: string };

/** Stored values in a reply's fields, by field name (the `entries` of a list and the `events` of a watch by position), to compare after decoding. */
interface Model {
  readonly fields: OkFields;
  readonly values: Readonly<Record<string, Stored | null | readonly (readonly [string, Stored])[] | readonly EventModel[]>>;
}

const eventModel: fc.Arbitrary<EventModel> = fc.oneof(
  fc.record({ index: count.map((index) => index + 1), type: fc.constant("put" as const), key: text, value: stored }),
  fc.record({ index: count.map((index) => index + 1), type: fc.constant("delete" as const), key: text }),
);

/** A failure reply of `code`; COMPACTED carries the oldest index it can serve from. */
const failure = (code: ErrorCode, message: string, context: ReplyContext, oldest: number): ErrorReply =>
  code === "COMPACTED" ? compactedReply(message, oldest, context) : errorReply(code, message, context);

const okModel: fc.Arbitrary<Model> = fc.oneof(
  fc.record({ value: optionalStored, found: fc.boolean() }).map(({ value, found }) => ({ fields: { op: "get" as const, value: value?.raw ?? null, found }, values: { value } })),
  count.map((index) => ({ fields: { op: "put" as const, index }, values: {} })),
  fc.record({ index: count, found: fc.boolean() }).map(({ index, found }) => ({ fields: { op: "delete" as const, index, found }, values: {} })),
  fc
    .record({ index: count, swapped: fc.boolean(), value: optionalStored })
    .map(({ index, swapped, value }) => ({ fields: { op: "cas" as const, index, swapped, value: value?.raw ?? null }, values: { value } })),
  fc
    .record({ entries: fc.array(fc.tuple(text, stored), { maxLength: 6 }), more: fc.boolean() })
    .map(({ entries, more }) => ({ fields: { op: "list" as const, entries: entries.map(([key, value]) => [key, value.raw] as const), more }, values: { entries } })),
  fc
    .record({
      id: serverId,
      pid: count,
      role: fc.constantFrom("leader", "follower", "candidate") as fc.Arbitrary<"leader" | "follower" | "candidate">,
      commitIndex: count,
      lastApplied: count,
      lastLogIndex: count,
      logStartIndex: count,
      snapshotIndex: count,
      votedFor: fc.option(serverId),
      uptimeMs: count,
      members,
    })
    .map((status) => ({ fields: { op: "status" as const, ...status }, values: {} })),
  fc.constantFrom("timeout", "step-down", "shutdown", "transfer").map((action) => ({ fields: { op: "admin" as const, action }, values: {} })),
  fc
    .record({ action: fc.constantFrom("add", "remove") as fc.Arbitrary<"add" | "remove">, index: count, members })
    .map((change) => ({ fields: { op: "admin" as const, ...change }, values: {} })),
  fc
    .record({ snapshotIndex: count, snapshotTerm: count })
    .map((position) => ({ fields: { op: "admin" as const, action: "snapshot" as const, ...position }, values: {} })),
  fc
    .record({ snapshotIndex: count, snapshotTerm: count, chunk: count, last: fc.boolean(), data: fc.uint8Array({ maxLength: 300 }) })
    .map((chunk) => ({ fields: { op: "admin" as const, action: "backup" as const, ...chunk }, values: { data: { sent: chunk.data, raw: chunk.data } } })),
  fc.record({ events: fc.array(eventModel, { maxLength: 6 }), next: count }).map(({ events, next }) => ({
    fields: { op: "watch" as const, events: events.map((event) => (event.type === "put" ? { ...event, value: event.value.raw } : event)), next },
    values: { events },
  })),
);

/** Every object the client decoded keeps the ordinary prototype: a `__proto__` key is data, never a prototype. */
function checkNoPrototypeChange(value: unknown): void {
  if (Array.isArray(value)) return value.forEach(checkNoPrototypeChange);
  if (value instanceof Map) return [...value].forEach(([key, item]) => (checkNoPrototypeChange(key), checkNoPrototypeChange(item)));
  if (typeof value === "object" && value !== null && !(value instanceof Uint8Array)) {
    assert.equal(Object.getPrototypeOf(value), Object.prototype, "a decoded map is a plain object");
    for (const key of Object.keys(value)) checkNoPrototypeChange((value as Record<string, unknown>)[key]);
  }
}

function decoded(bytes: Uint8Array): ReplyFields {
  const reply = decodeReply([Buffer.from(bytes)]);
  assert.ok(typeof reply !== "string", `the client refused a server's reply: ${String(reply)}`);
  checkNoPrototypeChange(reply);
  return reply;
}

function checkCommon(reply: ReplyFields, sent: ReplyContext & { readonly sentRid: Stored | null }): void {
  assert.equal(reply.term, sent.term);
  assert.equal(reply.leaderId, sent.leaderId);
  if (sent.sentRid === null) assert.ok(!Object.hasOwn(reply, "rid"), "no rid unless the request had one");
  else assert.deepEqual(normalize(reply.rid), normalize(sent.sentRid.sent), "rid comes back as the client sent it");
}

test("any successful reply encodes and decodes back to the same fields, stored values decoding to what the client sent", () => {
  fc.assert(
    fc.property(okModel, context, (model, sent) => {
      const { leader: _leader, sentRid: _sentRid, ...okContext } = sent;
      const reply = decoded(encodeReply(okReply(model.fields, okContext)));
      assert.equal(reply.ok, true);
      checkCommon(reply, sent);
      const { op, ...fields } = model.fields;
      const names = Object.keys(okReplyShape(op, op === "admin" ? model.fields.action : undefined));
      assert.deepEqual(Object.keys(reply).sort(), [...names, "ok", "term", "leaderId", ...(sent.sentRid === null ? [] : ["rid"])].sort());
      for (const name of names) {
        const value = model.values[name];
        const got = reply[name];
        if (value === undefined) assert.deepEqual(got, (fields as Record<string, unknown>)[name], name);
        else if (value === null) assert.equal(got, null, name);
        else if (name === "events") {
          assert.deepEqual(
            (got as Record<string, unknown>[]).map((event) => ("value" in event ? { ...event, value: normalize(event.value) } : event)),
            (value as readonly EventModel[]).map((event) => (event.type === "put" ? { ...event, value: normalize(event.value.sent) } : { ...event })),
            name,
          );
        } else if (Array.isArray(value)) {
          assert.deepEqual(
            (got as unknown[]).map((entry) => normalize(entry)),
            value.map(([key, item]) => [key, normalize(item.sent)]),
            name,
          );
        } else assert.deepEqual(normalize(got), normalize((value as Stored).sent), name);
      }
      const checked = checkReply(op, reply);
      assert.ok(typeof checked !== "string", `checkReply refused a valid ${op} reply: ${String(checked)}`);
    }),
    { seed: 0x7e91, numRuns: 400, includeErrorInReport: true },
  );
});

test("any failure reply encodes and decodes back to its code, sentence, leader and rid", () => {
  fc.assert(
    fc.property(fc.constantFrom(...errorCodes), text, context, fc.constantFrom(...clientOps), count, (code, message, sent, op, oldest) => {
      const { sentRid: _sentRid, ...errorContext } = sent;
      const reply = decoded(encodeReply(failure(code, message, errorContext, oldest + 1)));
      assert.equal(reply.ok, false);
      checkCommon(reply, sent);
      assert.equal(reply.error, code);
      assert.equal(reply.message, message);
      assert.equal(reply.leader, sent.leader);
      assert.equal(reply.oldest, code === "COMPACTED" ? oldest + 1 : undefined);
      const checked = checkReply(op, reply);
      assert.ok(typeof checked !== "string" && checked.ok === false, `checkReply refused a valid failure: ${String(checked)}`);
    }),
    { seed: 0x7e92, numRuns: 300, includeErrorInReport: true },
  );
});

/** decodeReply and checkReply on any bytes: a reply or a sentence, never a throw. */
function checkNeverThrows(frames: readonly Uint8Array[]): void {
  const reply = decodeReply(frames.map((frame) => Buffer.from(frame)));
  if (typeof reply === "string") {
    assert.ok(reply.length > 0, "a refusal says why");
    return;
  }
  assert.equal(typeof reply.ok, "boolean");
  for (const op of clientOps) {
    const checked: unknown = checkReply(op, reply);
    if (typeof checked === "string") assert.ok(checked.length > 0);
    else assert.equal(checked, reply, "a reply that passes is the decoded reply itself");
  }
}

const someReply: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(okModel, context).map(([model, { leader: _leader, sentRid: _sentRid, ...sent }]) => encodeReply(okReply(model.fields, sent))),
  fc.tuple(fc.constantFrom(...errorCodes), text, context, count).map(([code, message, { sentRid: _sentRid, ...sent }, oldest]) => encodeReply(failure(code, message, sent, oldest + 1))),
);

test("decodeReply and checkReply never throw on arbitrary frames, MessagePack values or mutated replies", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        arbitraryFrames,
        msgpackValue.map((value) => [pack(value)]),
        fc.dictionary(fc.constantFrom("ok", "term", "leaderId", "error", "message", "value", "entries", "events", "next", "oldest", "role", "leader", "__proto__"), msgpackValue).map((map) => [pack(map)]),
        mutated(someReply).map((frame) => [frame]),
      ),
      checkNeverThrows,
    ),
    { seed: 0x7e93, numRuns: 500, includeErrorInReport: true },
  );
});

test("decodeReply answers a reply nested far too deep with a sentence", () => {
  for (const depth of [1_000, 100_000]) {
    const frame = new Uint8Array(depth + 1).fill(0x91);
    frame[depth] = 0x01;
    checkNeverThrows([frame]);
  }
});
