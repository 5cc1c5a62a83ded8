/**
 * Proves that MsgpackReader walks every MessagePack type exactly (its end
 * offsets match the encoder's lengths), reads heads with the right values
 * (64-bit integers as bigint beyond 2^53), and refuses malformed or hostile
 * bytes with MsgpackFormatError: cut-short values, lengths that point past
 * the buffer (a 4 GB str32 in a few bytes), the unused byte 0xc1, nesting
 * past the limit, without deep recursion or large allocations.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FLOAT32_OPTIONS, Packr } from "msgpackr";
import { MsgpackFormatError, MsgpackReader, decodeUtf8Strict, nestingDepthMax } from "../../src/msgpack/msgpack-reader.ts";

const packr = new Packr({ useRecords: false, moreTypes: false });
const float32Packr = new Packr({ useRecords: false, useFloat32: FLOAT32_OPTIONS.ALWAYS });
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe("MsgpackReader.valueEnd", () => {
  const samples: Record<string, unknown> = {
    nil: null,
    true: true,
    false: false,
    "positive fixint": 5,
    "negative fixint": -3,
    uint8: 200,
    uint16: 60_000,
    uint32: 4_000_000_000,
    uint64: 2n ** 64n - 1n,
    int8: -100,
    int16: -30_000,
    int32: -2_000_000_000,
    int64: -(2n ** 63n),
    float64: 1.25,
    fixstr: "héllo",
    str8: "x".repeat(200),
    str16: "y".repeat(60_000),
    str32: "z".repeat(70_000),
    bin8: new Uint8Array(10),
    bin16: new Uint8Array(300),
    bin32: new Uint8Array(70_000),
    fixarray: [1, [2, [3]]],
    array16: Array.from({ length: 20 }, (_, i) => i),
    array32: Array.from({ length: 70_000 }, () => 0),
    fixmap: new Map<unknown, unknown>([["a", 1], [2, "b"]]),
    map16: new Map(Array.from({ length: 20 }, (_, i) => [i, i])),
    map32: new Map(Array.from({ length: 70_000 }, (_, i) => [i, null])),
    timestamp: new Date(1_700_000_000_123),
  };
  for (const [name, value] of Object.entries(samples)) {
    it(`walks ${name} to its exact end`, () => {
      const encoded = packr.pack(value);
      const padded = new Uint8Array(encoded.length + 3);
      padded.set(encoded);
      assert.equal(new MsgpackReader(padded).valueEnd(0), encoded.length);
    });
  }

  it("walks float32 and every fixext size", () => {
    assert.equal(new MsgpackReader(float32Packr.pack(1.5)).valueEnd(0), 5);
    for (const [code, size] of [[0xd4, 1], [0xd5, 2], [0xd6, 4], [0xd7, 8], [0xd8, 16]] as const) {
      const ext = new Uint8Array(2 + size);
      ext[0] = code;
      ext[1] = 42;
      const head = new MsgpackReader(ext).head(0);
      assert.deepEqual(head, { kind: "ext", type: 42, start: 2, next: 2 + size });
    }
    assert.deepEqual(new MsgpackReader(bytes(0xc7, 3, 0xff, 1, 2, 3)).head(0), { kind: "ext", type: -1, start: 3, next: 6 });
    assert.deepEqual(new MsgpackReader(bytes(0xc8, 0, 1, 7, 9)).head(0), { kind: "ext", type: 7, start: 4, next: 5 });
    assert.deepEqual(new MsgpackReader(bytes(0xc9, 0, 0, 0, 0, 7)).head(0), { kind: "ext", type: 7, start: 6, next: 6 });
  });
});

describe("MsgpackReader.head", () => {
  it("reads integer values, as bigint only beyond 2^53", () => {
    const read = (value: number | bigint) => {
      const head = new MsgpackReader(packr.pack(value)).head(0);
      assert.equal(head.kind, "int");
      return head.kind === "int" ? head.value : undefined;
    };
    assert.equal(read(127), 127);
    assert.equal(read(-32), -32);
    assert.equal(read(-129), -129);
    assert.equal(read(65_535), 65_535);
    assert.equal(read(2n ** 53n - 1n), 2 ** 53 - 1);
    assert.equal(read(2n ** 53n), 2n ** 53n);
    assert.equal(read(2n ** 63n - 1n), 2n ** 63n - 1n);
    assert.equal(read(2n ** 64n - 1n), 2n ** 64n - 1n);
    assert.equal(read(-(2n ** 63n)), -(2n ** 63n));
    // A small value in a wide encoding still reads as a number.
    assert.equal(new MsgpackReader(bytes(0xcf, 0, 0, 0, 0, 0, 0, 0, 5)).head(0).kind, "int");
    assert.deepEqual(new MsgpackReader(bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).head(0), {
      kind: "int",
      value: -1,
      next: 9,
    });
  });

  it("reads floats and strings", () => {
    assert.deepEqual(new MsgpackReader(float32Packr.pack(1.5)).head(0), { kind: "float", value: 1.5, next: 5 });
    assert.deepEqual(new MsgpackReader(packr.pack(0.1)).head(0), { kind: "float", value: 0.1, next: 9 });
    assert.deepEqual(new MsgpackReader(packr.pack("abc")).head(0), { kind: "str", start: 1, next: 4 });
  });
});

describe("MsgpackReader refuses bad bytes", () => {
  const refuses = (input: Uint8Array, pattern: RegExp, depthMax?: number) =>
    assert.throws(() => new MsgpackReader(input, depthMax).single(), (error: unknown) => {
      assert.ok(error instanceof MsgpackFormatError, String(error));
      assert.match(error.message, pattern);
      return true;
    });

  it("refuses an empty buffer", () => refuses(bytes(), /no bytes/));
  it("refuses the never-used byte 0xc1", () => refuses(bytes(0xc1), /0xc1/));
  it("refuses trailing bytes", () => refuses(bytes(0x01, 0x02), /1 trailing bytes/));
  it("refuses values cut short", () => {
    refuses(bytes(0xcd, 0x01), /cut short/);
    refuses(bytes(0xcb, 0, 0, 0), /cut short/);
    refuses(bytes(0xd3), /cut short/);
    refuses(bytes(0xd9), /cut short/);
    refuses(bytes(0xa3, 0x61), /a string declares 3 bytes but only 1 remain/);
    refuses(bytes(0x92, 0x01), /an array declares 2 elements but only 1 bytes remain/);
    refuses(bytes(0x93, 0x01, 0x01, 0xcd), /cut short/);
    refuses(bytes(0x81, 0xa1, 0x61), /cut short/);
    refuses(bytes(0xd8, 0x01, 0x00), /extension value declares 16 bytes/);
  });
  it("refuses a str32 that declares 4 GB in a six-byte buffer", () =>
    refuses(bytes(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61), /declares 4294967295 bytes but only 1 remain/));
  it("refuses a bin32 and an ext32 that declare 4 GB", () => {
    refuses(bytes(0xc6, 0xff, 0xff, 0xff, 0xff, 0x61), /binary data declares 4294967295 bytes/);
    refuses(bytes(0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x61), /extension value declares 4294967295 bytes/);
  });
  it("refuses an array32 or map32 whose count cannot fit in the buffer, before walking it", () => {
    refuses(bytes(0xdd, 0xff, 0xff, 0xff, 0xff, 0x01), /an array declares 4294967295 elements but only 1 bytes remain/);
    refuses(bytes(0xdf, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01), /a map declares 2 entries but only 2 bytes remain/);
  });

  it(`accepts ${nestingDepthMax} levels of nesting and refuses one more`, () => {
    const nested = (depth: number) => new Uint8Array([...new Array<number>(depth).fill(0x91), 0x01]);
    assert.equal(new MsgpackReader(nested(nestingDepthMax)).valueEnd(0), nestingDepthMax + 1);
    refuses(nested(nestingDepthMax + 1), /nest deeper than 100 levels/);
    refuses(nested(3), /nest deeper than 2 levels/, 2);
  });

  it("refuses a million levels of nesting without exhausting the stack", () => {
    const deep = new Uint8Array(1_000_000).fill(0x91);
    refuses(deep, /nest deeper than 100 levels/);
    const deepMaps = new Uint8Array(1_000_000);
    for (let at = 0; at < deepMaps.length; at += 2) [deepMaps[at], deepMaps[at + 1]] = [0x81, 0x01];
    refuses(deepMaps, /nest deeper than 100 levels|cut short/);
  });
});

describe("MsgpackReader.mapEntries", () => {
  it("returns the spans of keys and values in order", () => {
    const reader = new MsgpackReader(Uint8Array.from(packr.pack(new Map<unknown, unknown>([["a", 1], [2, [3, 4]]]))));
    const entries = reader.mapEntries(0);
    assert.equal(entries.length, 2);
    const [first, second] = entries;
    assert.deepEqual(reader.slice(first!.keyStart, first!.keyEnd), bytes(0xa1, 0x61));
    assert.deepEqual(reader.slice(first!.valueStart, first!.valueEnd), bytes(0x01));
    assert.deepEqual(reader.slice(second!.valueStart, second!.valueEnd), bytes(0x92, 0x03, 0x04));
  });

  it("refuses a value that is not a map", () => {
    assert.throws(() => new MsgpackReader(bytes(0x90)).mapEntries(0), /expected a map, found an array/);
  });
});

describe("decodeUtf8Strict", () => {
  it("decodes valid UTF-8, keeping a leading byte order mark", () => {
    assert.equal(decodeUtf8Strict(new TextEncoder().encode("añ😀")), "añ😀");
    assert.equal(decodeUtf8Strict(bytes(0xef, 0xbb, 0xbf, 0x61)), "\ufeffa");
  });
  it("refuses invalid bytes, overlong forms and encoded surrogates instead of replacing them", () => {
    assert.equal(decodeUtf8Strict(bytes(0x61, 0xff)), null);
    assert.equal(decodeUtf8Strict(bytes(0xc0, 0xaf)), null);
    assert.equal(decodeUtf8Strict(bytes(0xed, 0xa0, 0x80)), null);
    assert.equal(decodeUtf8Strict(bytes(0xe2, 0x82)), null);
  });
});
