/**
 * What the fuzz tests share: arbitraries of MessagePack values (the values a
 * client may send, docs/protocol.md §7), a way to compare values across an
 * encode and a decode, byte-level mutations of a valid message, and a frame
 * builder that can write what msgpackr will not (duplicate field names,
 * strings that are not UTF-8).
 */
import fc from "fast-check";
import { Packr, Unpackr, type Options } from "msgpackr";
import { MsgpackReader } from "../../src/msgpack/msgpack-reader.ts";

/** Standard MessagePack, as a client library in any language would write it. */
export const packr = new Packr({ useRecords: false, variableMapSize: true });

/** Maps as `Map` (so that `__proto__` stays a key), safe integers as numbers and larger ones as bigints. */
export const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: false,
  int64AsType: "auto" as unknown as NonNullable<Options["int64AsType"]>,
});

/** One value packed, as a copy (msgpackr may reuse the buffer it packed into). */
export const pack = (value: unknown): Uint8Array => Uint8Array.from(packr.pack(value));

export const concatBytes = (...parts: readonly Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

const utf8 = new TextEncoder();
export const utf8Length = (text: string): number => utf8.encode(text).length;

/** Strict UTF-8, a BOM kept: how the server reads names, keys and client ids (docs/protocol.md §6). */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
export function strictText(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** A string field written byte for byte, so that it can hold bytes that are not UTF-8. */
export class RawString {
  constructor(readonly bytes: Uint8Array) {}
}

/** The MessagePack header of a string of `length` bytes. */
export function strHeader(length: number): Uint8Array {
  if (length < 32) return Uint8Array.of(0xa0 | length);
  if (length <= 0xff) return Uint8Array.of(0xd9, length);
  if (length <= 0xffff) return Uint8Array.of(0xda, length >> 8, length & 0xff);
  return Uint8Array.of(0xdb, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
}

export function mapHeader(count: number): Uint8Array {
  if (count < 16) return Uint8Array.of(0x80 | count);
  return Uint8Array.of(0xde, count >> 8, count & 0xff);
}

/** Encodes one value; a RawString is written as a string holding exactly its bytes. */
export function encodeValue(value: unknown): Uint8Array {
  if (value instanceof RawString) return concatBytes(strHeader(value.bytes.length), value.bytes);
  return pack(value);
}

/** A map written entry by entry: names may repeat or be of any type. */
export function encodeEntries(entries: readonly (readonly [unknown, unknown])[]): Uint8Array {
  return concatBytes(mapHeader(entries.length), ...entries.flatMap(([name, value]) => [encodeValue(name), encodeValue(value)]));
}

/** How deeply arrays and maps nest in a value (a scalar is 0, `[[1]]` is 2), as docs/protocol.md §6 counts. */
export function nestingDepth(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(nestingDepth));
  if (value instanceof Map) return 1 + Math.max(0, ...[...value].flatMap(([key, item]) => [nestingDepth(key), nestingDepth(item)]));
  if (isPlainObject(value)) return 1 + Math.max(0, ...Object.values(value).map(nestingDepth));
  return 0;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** An array nested `depth` deep around `leaf` (depth 0 is the leaf itself). */
export function nestedArray(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

/** Whether `bytes` hold exactly one well-formed MessagePack value nesting at most `depthMax` deep. */
export function isOneMsgpackValue(bytes: Uint8Array, depthMax = 100): boolean {
  try {
    new MsgpackReader(bytes, depthMax).single();
    return true;
  } catch {
    return false;
  }
}

/**
 * A value in a form that compares equal across MessagePack: binaries as plain
 * Uint8Arrays, bigints up to 2^53 as numbers, -0 as 0, and every map (a `Map` or a
 * plain object, which is how msgpackr writes and the client decodes maps) as
 * its entries, sorted.
 */
export function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bin: Array.from(value) };
  // msgpackr's "auto" gives a number up to 2^53 (exact there too), a bigint beyond.
  if (typeof value === "bigint") return value >= -(1n << 53n) && value <= 1n << 53n ? Number(value) : value;
  if (typeof value === "number") return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) return value.map(normalize);
  if (value instanceof Map) return normalizeMap([...value]);
  if (isPlainObject(value)) return normalizeMap(Object.keys(value).map((key) => [key, value[key]]));
  return value;
}

/** A map's entries in a fixed order: maps are equal whatever their order (docs/protocol.md §7), and an object puts integer-like keys first. */
function normalizeMap(entries: readonly (readonly [unknown, unknown])[]): unknown {
  const normalized = entries.map(([key, item]) => [normalize(key), normalize(item)] as const);
  const order = (key: unknown): string => `${typeof key}:${fc.stringify(key)}`;
  return { map: normalized.sort(([a], [b]) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)) };
}

/** A plain object with an own, enumerable `__proto__` key (defined, so that no prototype changes). */
function withProtoKey(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, item] of entries) Object.defineProperty(object, key, { value: item, enumerable: true, writable: true, configurable: true });
  return object;
}

/** Map keys a hostile client likes. */
export const trickyNames = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "op", "key", "rid", ""] as const;

const mapKey: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...trickyNames), fc.string({ unit: "binary", maxLength: 8 }));

/** Integers that land on every MessagePack integer form and its edges. */
export const anyInteger: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.integer({ min: -40, max: 200 }),
  fc.integer(),
  fc.constantFrom(0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, -0x80000000, -33, -32, 2 ** 53 - 1, -(2 ** 53 - 1)),
  fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }),
  fc.constantFrom(1n << 53n, (1n << 53n) - 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, -(1n << 63n), 0n, 1n, -1n),
);

/** Any value a client may store (docs/protocol.md §7), nested a few levels. */
export const msgpackValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4, withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    anyInteger,
    fc.double(),
    fc.string({ unit: "binary", maxLength: 24 }),
    fc.uint8Array({ maxLength: 24 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(fc.oneof(mapKey, fc.integer({ min: -5, max: 5 })), tie("value")), { maxLength: 4 }).map((entries) => new Map<unknown, unknown>(entries)),
    fc.uniqueArray(fc.tuple(mapKey, tie("value")), { maxLength: 4, selector: ([key]) => key }).map(withProtoKey),
  ),
})).value;

/** fast-check's own "anything", made packable: every value msgpackr will encode, of any shape. */
export const packableAnything: fc.Arbitrary<Uint8Array> = fc
  .anything({
    maxDepth: 4,
    withBigInt: true,
    withMap: true,
    withNullPrototype: true,
    withTypedArray: true,
    withSparseArray: true,
    key: mapKey,
  })
  .chain((value) => {
    try {
      return fc.constant(pack(value));
    } catch {
      return fc.constant(pack(null));
    }
  });

/** `arbitrary`'s values `present` times for every `absent` times undefined. */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>, present: number, absent: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: absent }, { arbitrary, weight: present });
}

/** Byte sequences that break a reader in interesting ways. */
const hostileChunks: readonly Uint8Array[] = [
  Uint8Array.of(0xc1),
  Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xdf, 0x7f, 0xff, 0xff, 0xff),
  Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xdb, 0x80, 0x00, 0x00, 0x00),
  Uint8Array.of(0xc9, 0xff, 0xff, 0xff, 0xff, 0x01),
  Uint8Array.of(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0),
  Uint8Array.of(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0),
  Uint8Array.of(0xd6, 0xff, 0, 0, 0, 0), // a timestamp extension
  Uint8Array.of(0xd4, 0x72, 0x40), // msgpackr's record extension
  Uint8Array.of(0xa2, 0xc3, 0x28), // a string that is not UTF-8
  new Uint8Array(120).fill(0x91),
];

type Mutation =
  | { readonly kind: "flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "set"; readonly at: number; readonly byte: number }
  | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "delete"; readonly at: number; readonly count: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "repeat"; readonly at: number; readonly count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.constantFrom(...hostileChunks)) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("repeat" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
);

function applyMutation(bytes: Uint8Array, change: Mutation): Uint8Array {
  const length = bytes.length;
  const at = length === 0 ? 0 : change.at % (length + (change.kind === "insert" ? 1 : 0));
  switch (change.kind) {
    case "flip":
    case "set": {
      if (length === 0) return bytes;
      const copy = Uint8Array.from(bytes);
      copy[at] = change.kind === "flip" ? (copy[at] as number) ^ (1 << change.bit) : change.byte;
      return copy;
    }
    case "insert":
      return concatBytes(bytes.subarray(0, at), change.bytes, bytes.subarray(at));
    case "delete":
      return concatBytes(bytes.subarray(0, at), bytes.subarray(at + change.count));
    case "truncate":
      return bytes.subarray(0, at);
    case "repeat":
      return concatBytes(bytes.subarray(0, at + 1), ...Array.from({ length: change.count }, () => bytes.subarray(at, at + 1)), bytes.subarray(at + 1));
  }
}

/** `base` with one to four byte-level mutations: flipped bits, set, inserted, deleted or repeated bytes, a cut. */
export function mutated(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([bytes, changes]) => changes.reduce(applyMutation, bytes));
}

/** Frames of arbitrary bytes, as anyone on a socket can send them. */
export const arbitraryFrames: fc.Arbitrary<Uint8Array[]> = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 512 }).map((frame) => [frame]), weight: 4 },
  { arbitrary: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }), weight: 1 },
);
