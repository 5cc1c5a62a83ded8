/**
 * Property-based fuzzing of parseRequest, where client bytes enter a server
 * (docs/architecture.md §6). Whatever the bytes, it never throws; it either
 * accepts a request whose every field keeps the limits of docs/protocol.md
 * §4 and §6, or refuses with a short sentence, echoing `rid` whenever the
 * request decoded to a map (§6).
 *
 * Request-shaped maps are checked against a model of §4 and §6 written here
 * from the page, not from the parser: the model says whether the request is
 * accepted, with which fields (values and `rid` as the exact bytes sent,
 * docs/protocol.md §7), and which `rid` a refusal echoes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeRequest } from "../../src/client/client-codec.ts";
import { isEndpoint } from "../../src/config/endpoint.ts";
import { adminActions, ops, parseRequest, type ParseResult, type Request } from "../../src/protocol/client-request.ts";
import {
  RawString,
  anyInteger,
  arbitraryFrames,
  encodeEntries,
  encodeValue,
  isOneMsgpackValue,
  msgpackValue,
  mutated,
  nestedArray,
  nestingDepth,
  normalize,
  pack,
  packableAnything,
  sometimes,
  strictText,
  trickyNames,
  unpackr,
  utf8Length,
} from "./fuzz-support.ts";

const serverIds: ReadonlySet<number> = new Set([1, 2, 3, 4, 5]);
const parse = (frames: readonly Uint8Array[]): ParseResult => parseRequest(frames, { serverIds });

const keyBytesMax = 1024;
const valueBytesMax = 1_048_576;
const clientBytesMax = 128;
const depthMax = 100;
/** A refusal is a sentence for a person, whatever the size of the input. */
const messageCharsMax = 500;

/** Which fields each op reads (docs/protocol.md §4); every op reads `op` and `rid`. */
const fieldsOfOp: Readonly<Record<string, readonly string[]>> = {
  get: ["key", "stale"],
  put: ["key", "value", "client", "seq"],
  delete: ["key", "client", "seq"],
  cas: ["key", "expect", "value", "client", "seq"],
  list: ["prefix", "after", "limit", "stale"],
  status: [],
  admin: ["action", "target", "chunk", "client"],
  watch: ["prefix", "from", "limit", "waitMs"],
};

// ---- what every outcome must satisfy -------------------------------------

/** The rules of docs/protocol.md §4 and §6 on an accepted request, and the shape of a refusal. */
function checkOutcome(result: ParseResult): void {
  assert.equal(typeof result.ok, "boolean");
  if (!result.ok) {
    assert.equal(typeof result.message, "string");
    assert.ok(result.message.length > 0, "a refusal says why");
    assert.ok(result.message.length <= messageCharsMax, `a refusal is a sentence, not ${result.message.length} characters`);
    if (result.rid !== null) assert.ok(isOneMsgpackValue(result.rid), "an echoed rid is one MessagePack value");
    return;
  }
  const request = result.request;
  assert.ok((ops as readonly string[]).includes(request.op), `op ${request.op}`);
  const allowed = new Set(["op", "rid", ...(fieldsOfOp[request.op] ?? [])]);
  for (const name of Object.keys(request)) assert.ok(allowed.has(name), `a ${request.op} request carries no ${name}`);
  if (request.rid !== null) assert.ok(request.rid instanceof Uint8Array && isOneMsgpackValue(request.rid), "rid is one MessagePack value");
  if ("key" in request) {
    assert.equal(typeof request.key, "string");
    const bytes = utf8Length(request.key);
    assert.ok(bytes >= 1 && bytes <= keyBytesMax, `key of ${bytes} bytes`);
  }
  for (const name of ["value", "expect"] as const) {
    if (!(name in request)) continue;
    const raw = (request as unknown as Record<string, unknown>)[name];
    if (name === "expect" && raw === null) continue;
    assert.ok(raw instanceof Uint8Array, `${name} is raw bytes`);
    assert.ok(raw.length <= valueBytesMax, `${name} of ${raw.length} bytes`);
    assert.ok(isOneMsgpackValue(raw, depthMax), `${name} is one MessagePack value nesting at most ${depthMax} deep`);
  }
  if (request.op !== "admin" && ("client" in request || "seq" in request)) {
    const { client, seq } = request as { client?: unknown; seq?: unknown };
    assert.ok((client === undefined) === (seq === undefined), "client and seq come together");
    if (client !== undefined) {
      assert.equal(typeof client, "string");
      const bytes = utf8Length(client as string);
      assert.ok(bytes >= 1 && bytes <= clientBytesMax, `client of ${bytes} bytes`);
      assert.ok(Number.isSafeInteger(seq) && (seq as number) >= 1, `seq ${String(seq)}`);
    }
  }
  if (request.op === "get" || request.op === "list") assert.equal(typeof request.stale, "boolean");
  if (request.op === "list") {
    if (request.limit !== undefined) assert.ok(Number.isSafeInteger(request.limit) && request.limit >= 1, `limit ${request.limit}`);
    for (const text of [request.prefix, request.after]) if (text !== undefined) assert.equal(typeof text, "string");
  }
  if (request.op === "watch") {
    if (request.limit !== undefined) assert.ok(Number.isSafeInteger(request.limit) && request.limit >= 1, `limit ${request.limit}`);
    if (request.from !== undefined) assert.ok(Number.isSafeInteger(request.from) && request.from >= 1, `from ${request.from}`);
    assert.ok(Number.isSafeInteger(request.waitMs) && request.waitMs >= 0 && request.waitMs <= 60_000, `waitMs ${request.waitMs}`);
    if (request.prefix !== undefined) assert.equal(typeof request.prefix, "string");
  }
  if (request.op === "admin") {
    assert.ok((adminActions as readonly string[]).includes(request.action));
    if (request.action === "transfer") assert.ok(serverIds.has(request.target), `target ${request.target}`);
    if (request.action === "backup") assert.ok(Number.isSafeInteger(request.chunk) && request.chunk >= 0, `chunk ${request.chunk}`);
    if (request.action === "add" || request.action === "remove") assert.ok(Number.isSafeInteger(request.target) && request.target >= 1, `target ${request.target}`);
    if (request.action === "add") assert.ok(isEndpoint(request.client), `client ${request.client}`);
  }
}

// ---- a model of docs/protocol.md §4 and §6 on request maps ---------------

type Entries = readonly (readonly [unknown, unknown])[];

type Expected =
  | { readonly ok: true; readonly request: Readonly<Record<string, unknown>> }
  /** `rid`: the bytes a refusal must echo, or null. */
  | { readonly ok: false; readonly rid: Uint8Array | null; readonly why: string };

/** msgpackr writes a number as an integer when it fits 32 bits, as a float otherwise; a bigint always as an integer. */
function asWireInteger(value: unknown): bigint | null {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value) && (value >>> 0 === value || value >> 0 === value)) return BigInt(value);
  return null;
}

/** The text of a string field (strict UTF-8), null when it is a string of bad bytes, undefined when it is no string. */
function textOf(value: unknown): string | null | undefined {
  if (typeof value === "string") return value;
  if (value instanceof RawString) return strictText(value.bytes);
  return undefined;
}

class Refused extends Error {}

function expectedParse(entries: Entries): Expected {
  // §6: nesting deeper than the limit anywhere is refused before the map is read, so no rid.
  for (const [name, value] of entries) {
    if (Math.max(nestingDepth(name), nestingDepth(value)) > depthMax) return { ok: false, rid: null, why: "nested too deep" };
  }
  const fields = new Map<string, unknown>();
  let nameProblem: string | null = null;
  for (const [name, value] of entries) {
    const text = textOf(name);
    if (typeof text !== "string") nameProblem ??= "a field name is not a UTF-8 string";
    else if (fields.has(text)) nameProblem ??= `the field ${text} appears twice`;
    else fields.set(text, value);
  }
  const rid = fields.has("rid") ? encodeValue(fields.get("rid")) : null;
  if (nameProblem !== null) return { ok: false, rid, why: nameProblem };
  try {
    return { ok: true, request: { ...expectedRequest(fields), rid } };
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return { ok: false, rid, why: error.message };
  }
}

function expectedRequest(fields: ReadonlyMap<string, unknown>): Record<string, unknown> {
  const refuse = (why: string): never => {
    throw new Refused(why);
  };
  const string = (name: string, required: boolean): string | undefined => {
    if (!fields.has(name)) return required ? refuse(`${name} missing`) : undefined;
    const text = textOf(fields.get(name));
    if (text === undefined) refuse(`${name} not a string`);
    if (text === null) refuse(`${name} not UTF-8`);
    return text as string;
  };
  const integerOf = (name: string, least: 0n | 1n, largeAllowed: boolean): number | undefined => {
    if (!fields.has(name)) return undefined;
    const integer = asWireInteger(fields.get(name));
    if (integer === null || integer < least) return refuse(`${name} not an integer of at least ${least}`);
    if (integer > BigInt(Number.MAX_SAFE_INTEGER)) return largeAllowed ? Number.MAX_SAFE_INTEGER : refuse(`${name} above 2^53 - 1`);
    return Number(integer);
  };
  const positive = (name: string, largeAllowed: boolean): number | undefined => integerOf(name, 1n, largeAllowed);
  const stale = (): boolean => {
    if (!fields.has("stale")) return false;
    const value = fields.get("stale");
    return typeof value === "boolean" ? value : refuse("stale not a boolean");
  };
  const key = (): string => {
    const text = string("key", true) as string;
    const bytes = utf8Length(text);
    return bytes >= 1 && bytes <= keyBytesMax ? text : refuse(`key of ${bytes} bytes`);
  };
  const value = (name: "value" | "expect"): Uint8Array | null => {
    if (!fields.has(name)) return refuse(`${name} missing`);
    const raw = encodeValue(fields.get(name));
    if (name === "expect" && raw.length === 1 && raw[0] === 0xc0) return null;
    return raw.length <= valueBytesMax ? raw : refuse(`${name} of ${raw.length} bytes`);
  };
  const session = (): Record<string, unknown> => {
    const client = string("client", false);
    const seq = positive("seq", false);
    if (client === undefined && seq === undefined) return {};
    if (client === undefined || seq === undefined) return refuse("client and seq not together");
    const bytes = utf8Length(client);
    return bytes >= 1 && bytes <= clientBytesMax ? { client, seq } : refuse(`client of ${bytes} bytes`);
  };

  const op = string("op", true) as string;
  switch (op) {
    case "get":
      return { op, key: key(), stale: stale() };
    case "put":
      return { op, key: key(), value: value("value"), ...session() };
    case "delete":
      return { op, key: key(), ...session() };
    case "cas":
      return { op, key: key(), expect: value("expect"), value: value("value"), ...session() };
    case "list": {
      const prefix = string("prefix", false);
      const after = string("after", false);
      const limit = positive("limit", true);
      return {
        op,
        ...(prefix === undefined ? {} : { prefix }),
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
        stale: stale(),
      };
    }
    case "status":
      return { op };
    case "watch": {
      const prefix = string("prefix", false);
      const from = positive("from", false);
      const limit = positive("limit", true);
      let waitMs = 10_000;
      if (fields.has("waitMs")) {
        const integer = asWireInteger(fields.get("waitMs"));
        if (integer === null || integer < 0n || integer > 60_000n) refuse("waitMs not from 0 to 60000");
        waitMs = Number(integer);
      }
      return {
        op,
        ...(prefix === undefined ? {} : { prefix }),
        ...(from === undefined ? {} : { from }),
        ...(limit === undefined ? {} : { limit }),
        waitMs,
      };
    }
    case "admin": {
      const action = string("action", true) as string;
      if (!(adminActions as readonly string[]).includes(action)) refuse(`unknown action ${action}`);
      if (action === "backup") {
        const chunk = integerOf("chunk", 0n, false);
        return chunk === undefined ? refuse("backup without chunk") : { op, action, chunk };
      }
      if (action !== "transfer" && action !== "add" && action !== "remove") return { op, action };
      const target = positive("target", false);
      if (target === undefined) refuse(`${action} without target`);
      if (action === "remove") return { op, action, target };
      if (action === "transfer") return serverIds.has(target as number) ? { op, action, target } : refuse(`target ${target} not a server`);
      const client = string("client", false);
      if (client === undefined) refuse("add without client");
      return isEndpoint(client) ? { op, action, target, client } : refuse(`client ${client} not an endpoint`);
    }
    default:
      return refuse(`unknown op ${op}`);
  }
}

// ---- request-shaped maps -------------------------------------------------

/** A binary value whose MessagePack encoding (bin32) is exactly `encodedBytes` long. */
function binaryOfEncodedSize(encodedBytes: number): Uint8Array {
  return new Uint8Array(encodedBytes - 5).fill(0x5a);
}

const utf8Garbage = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.constantFrom(Uint8Array.of(0xc3, 0x28), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xf4, 0x90, 0x80, 0x80), Uint8Array.of(0xef, 0xbb, 0xbf, 0x61), Uint8Array.of(0xe2, 0x82)),
).map((bytes) => new RawString(bytes));

const garbage: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: msgpackValue, weight: 8 },
  { arbitrary: utf8Garbage, weight: 3 },
  { arbitrary: fc.constantFrom(nestedArray(depthMax), nestedArray(depthMax + 1)), weight: 1 },
);

/** Keys around the 1..1024-byte rule, in one- and multi-byte characters. */
const keyOrString = fc.oneof(
  { arbitrary: fc.constantFrom("a", "b", "k", "__proto__", "constructor", ""), weight: 3 },
  { arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), weight: 4 },
  { arbitrary: fc.constantFrom(1023, 1024, 1025).map((length) => "k".repeat(length)), weight: 1 },
  { arbitrary: fc.constantFrom(341, 342).map((length) => "€".repeat(length) + "a"), weight: 1 },
  { arbitrary: fc.constantFrom(256, 257).map((length) => "😀".repeat(length)), weight: 1 },
);

/** Client endpoints, and text near them: an `add`'s `client` is checked as the config file's endpoints are. */
const endpoint = fc.oneof(
  fc.integer({ min: 1, max: 65535 }).map((port) => `tcp://127.0.0.1:${port}`),
  fc.constantFrom("ipc:///tmp/zraft-6", "inproc://six", "tcp://host.example:5005"),
);

const clientName = fc.oneof(
  endpoint,
  fc.constantFrom("tcp://127.0.0.1", "udp://1.2.3.4:5", `ipc:///${"x".repeat(260)}`),
  fc.constantFrom("c", "client-1", ""),
  fc.string({ unit: "binary", minLength: 1, maxLength: 16 }),
  fc.constantFrom(127, 128, 129).map((length) => "c".repeat(length)),
  fc.constantFrom(42, 43).map((length) => "€".repeat(length) + "ab"),
);

const storedValue = fc.oneof(
  { arbitrary: msgpackValue, weight: 20 },
  { arbitrary: fc.constantFrom(depthMax - 1, depthMax, depthMax + 1).map((depth) => nestedArray(depth)), weight: 1 },
  { arbitrary: fc.constantFrom(valueBytesMax, valueBytesMax + 1).map(binaryOfEncodedSize), weight: 1 },
);

const positiveInteger = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(2 ** 31 - 1, 2 ** 32 - 1, 2 ** 53 - 1), anyInteger);

/** A value for each field, valid for its op more often than not. */
const fieldValue: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  op: fc.oneof({ arbitrary: fc.constantFrom(...ops), weight: 10 }, { arbitrary: fc.constantFrom("GET", "lst", ""), weight: 1 }, { arbitrary: garbage, weight: 1 }),
  key: fc.oneof({ arbitrary: keyOrString, weight: 8 }, { arbitrary: garbage, weight: 1 }),
  value: storedValue,
  expect: fc.oneof(fc.constant(null), storedValue),
  prefix: fc.oneof({ arbitrary: keyOrString, weight: 6 }, { arbitrary: garbage, weight: 1 }),
  after: fc.oneof({ arbitrary: keyOrString, weight: 6 }, { arbitrary: garbage, weight: 1 }),
  limit: fc.oneof({ arbitrary: positiveInteger, weight: 6 }, { arbitrary: garbage, weight: 1 }),
  from: fc.oneof({ arbitrary: positiveInteger, weight: 6 }, { arbitrary: fc.constant(0), weight: 1 }, { arbitrary: garbage, weight: 1 }),
  waitMs: fc.oneof({ arbitrary: fc.constantFrom(0, 1, 10_000, 59_999, 60_000, 60_001, -1), weight: 6 }, { arbitrary: positiveInteger, weight: 1 }, { arbitrary: garbage, weight: 1 }),
  client: fc.oneof({ arbitrary: clientName, weight: 8 }, { arbitrary: garbage, weight: 1 }),
  seq: fc.oneof({ arbitrary: positiveInteger, weight: 8 }, { arbitrary: garbage, weight: 1 }),
  stale: fc.oneof({ arbitrary: fc.boolean(), weight: 8 }, { arbitrary: garbage, weight: 1 }),
  action: fc.oneof({ arbitrary: fc.constantFrom(...adminActions), weight: 6 }, { arbitrary: fc.constantFrom("reboot", "TRANSFER"), weight: 1 }, { arbitrary: garbage, weight: 1 }),
  target: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 7 }), weight: 6 }, { arbitrary: positiveInteger, weight: 1 }, { arbitrary: garbage, weight: 1 }),
  chunk: fc.oneof({ arbitrary: fc.integer({ min: -1, max: 7 }), weight: 6 }, { arbitrary: positiveInteger, weight: 1 }, { arbitrary: garbage, weight: 1 }),
  rid: fc.oneof({ arbitrary: msgpackValue, weight: 20 }, { arbitrary: fc.constantFrom(nestedArray(depthMax), nestedArray(depthMax + 1)), weight: 1 }),
};

/** Field names that are not strings, not UTF-8, or repeat a name. */
const oddName = fc.oneof(
  fc.constantFrom(...trickyNames),
  fc.string({ maxLength: 6 }),
  anyInteger,
  fc.constant(null),
  fc.uint8Array({ maxLength: 4 }),
  utf8Garbage,
  fc.constant(new RawString(new TextEncoder().encode("rid"))),
  fc.constantFrom(nestedArray(2), nestedArray(depthMax + 1)),
);

/**
 * A request map: a likely op; the fields that op reads present most of the
 * time and the others now and then (dropped fields), sometimes of the wrong
 * type (swapped types) or at a size limit; now and then an odd extra entry;
 * in any order.
 */
const requestEntries: fc.Arbitrary<Entries> = fc
  .option(fieldValue.op as fc.Arbitrary<unknown>, { freq: 12, nil: undefined })
  .chain((op) => {
    const used = new Set(typeof op === "string" ? fieldsOfOp[op] ?? [] : []);
    const others = Object.entries(fieldValue).filter(([name]) => name !== "op");
    return fc.tuple(
      fc.constant(op),
      fc.record(
        Object.fromEntries(others.map(([name, arbitrary]) => [name, used.has(name) ? sometimes(arbitrary, 8, 1) : sometimes(arbitrary, 1, 6)])) as Record<
          string,
          fc.Arbitrary<unknown>
        >,
      ),
      fc.oneof({ arbitrary: fc.constant([]), weight: 5 }, { arbitrary: fc.array(fc.tuple(oddName, msgpackValue), { minLength: 1, maxLength: 2 }), weight: 1 }),
    );
  })
  .map(([op, fields, extras]) => {
    const entries: [unknown, unknown][] = op === undefined ? [] : [["op", op]];
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) entries.push([name, value]);
    return [...entries, ...extras];
  })
  .chain((entries) => fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }));

// ---- the properties ------------------------------------------------------

test("parseRequest never throws on arbitrary frames, and accepts only requests within the limits", () => {
  fc.assert(
    fc.property(arbitraryFrames, (frames) => {
      checkOutcome(parse(frames));
    }),
    { seed: 0x5eed01, numRuns: 500, includeErrorInReport: true },
  );
});

test("parseRequest never throws on arbitrary MessagePack values, and refuses every one that is not a map", () => {
  fc.assert(
    fc.property(fc.oneof(msgpackValue.map(pack), packableAnything), (frame) => {
      const result = parse([frame]);
      checkOutcome(result);
      const isMap = frame.length > 0 && ((frame[0] as number) >> 4 === 0x8 || frame[0] === 0xde || frame[0] === 0xdf);
      if (!isMap) assert.equal(result.ok, false, "only a map is a request");
    }),
    { seed: 0x5eed02, numRuns: 500, includeErrorInReport: true },
  );
});

test("parseRequest on request-shaped maps agrees with docs/protocol.md §4 and §6: fields, limits and the rid echo", () => {
  let accepted = 0;
  let runs = 0;
  fc.assert(
    fc.property(requestEntries, (entries) => {
      runs++;
      const result = parse([encodeEntries(entries)]);
      checkOutcome(result);
      const expected = expectedParse(entries);
      if (expected.ok) {
        assert.ok(result.ok, `should be accepted, but: ${result.ok ? "" : result.message}`);
        accepted++;
        assert.deepEqual({ ...result.request }, expected.request);
      } else {
        assert.ok(!result.ok, `should be refused (${expected.why})`);
        assert.deepEqual(result.rid, expected.rid, "rid is echoed exactly when the request decoded to a map that had one");
      }
    }),
    { seed: 0x5eed03, numRuns: 500, includeErrorInReport: true },
  );
  // The generator must reach acceptance often enough for the limits above to be exercised.
  assert.ok(accepted >= runs / 10, `only ${accepted} of ${runs} generated requests were valid`);
});

test("parseRequest never throws on byte-level mutations of request maps; an echoed rid is bytes of the frame", () => {
  fc.assert(
    fc.property(mutated(requestEntries.map(encodeEntries)), (frame) => {
      const result = parse([frame]);
      checkOutcome(result);
      const rid = result.ok ? result.request.rid : result.rid;
      if (rid !== null) assert.ok(Buffer.from(frame).includes(Buffer.from(rid)), "the rid echoed is the client's own bytes");
    }),
    { seed: 0x5eed04, numRuns: 500, includeErrorInReport: true },
  );
});

// ---- the round trip through the client library ---------------------------

const validKey = fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 30 }), fc.constantFrom("k".repeat(keyBytesMax), "€".repeat(341) + "a", "__proto__"));
const validClient = fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 32 }).filter((text) => utf8Length(text) <= clientBytesMax), fc.constant("c".repeat(clientBytesMax)));
const optional = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arbitrary, { nil: undefined });
const session = fc.option(fc.record({ client: validClient, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }), { nil: undefined });
const rid = optional(msgpackValue);

type ModelRequest = Readonly<Record<string, unknown>> & { readonly op: string };

/** A valid request of any op, as a client program builds it. */
const validRequest: fc.Arbitrary<ModelRequest> = fc.oneof(
  fc.record({ op: fc.constant("get"), key: validKey, stale: optional(fc.boolean()), rid }),
  fc.tuple(fc.record({ op: fc.constant("put"), key: validKey, value: msgpackValue, rid }), session).map(([request, s]) => ({ ...request, ...s })),
  fc.tuple(fc.record({ op: fc.constant("delete"), key: validKey, rid }), session).map(([request, s]) => ({ ...request, ...s })),
  fc
    .tuple(fc.record({ op: fc.constant("cas"), key: validKey, expect: fc.oneof(fc.constant(null), msgpackValue), value: msgpackValue, rid }), session)
    .map(([request, s]) => ({ ...request, ...s })),
  fc.record({
    op: fc.constant("list"),
    prefix: optional(fc.string({ unit: "binary", maxLength: 20 })),
    after: optional(fc.string({ unit: "binary", maxLength: 20 })),
    limit: optional(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    stale: optional(fc.boolean()),
    rid,
  }),
  fc.record({ op: fc.constant("status"), rid }),
  fc.record({
    op: fc.constant("watch"),
    prefix: optional(fc.string({ unit: "binary", maxLength: 20 })),
    from: optional(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    limit: optional(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    waitMs: fc.integer({ min: 0, max: 60_000 }),
    rid,
  }),
  fc.oneof(
    fc.record({ op: fc.constant("admin"), action: fc.constantFrom("timeout", "step-down", "shutdown", "snapshot"), rid }),
    fc.record({ op: fc.constant("admin"), action: fc.constant("transfer"), target: fc.constantFrom(...serverIds), rid }),
    fc.record({ op: fc.constant("admin"), action: fc.constant("backup"), chunk: fc.oneof(fc.nat({ max: 10 }), fc.maxSafeNat()), rid }),
    fc.record({ op: fc.constant("admin"), action: fc.constant("add"), target: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), client: endpoint, rid }),
    fc.record({ op: fc.constant("admin"), action: fc.constant("remove"), target: fc.integer({ min: 1, max: 2 ** 31 }), rid }),
  ),
);

/** A request's fields without the ones left out; a read without `stale` is not stale (docs/protocol.md §4). */
function comparable(request: Request | ModelRequest): Record<string, unknown> {
  const result: Record<string, unknown> = Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined));
  if ((request.op === "get" || request.op === "list") && result.stale === undefined) result.stale = false;
  return result;
}

test("a valid request of any op, encoded by the client library, parses back to the same fields", () => {
  fc.assert(
    fc.property(validRequest, (model) => {
      const result = parse([encodeRequest(model)]);
      assert.ok(result.ok, result.ok ? "" : `refused: ${result.message}`);
      checkOutcome(result);
      const parsed = comparable(result.request);
      const expected = comparable(model);
      // Values and rid travel as raw bytes: they must decode to what the client sent.
      if (model.rid === undefined) expected.rid = null;
      for (const name of ["value", "expect", "rid"]) {
        const raw = parsed[name];
        if (raw instanceof Uint8Array) parsed[name] = normalize(unpackr.unpack(raw));
        if (name in expected) expected[name] = normalize(expected[name]);
      }
      assert.deepEqual(parsed, expected);
    }),
    { seed: 0x5eed05, numRuns: 400, includeErrorInReport: true },
  );
});
