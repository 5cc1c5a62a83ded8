/**
 * Proves that MsgpackWriter writes standard MessagePack that another decoder
 * (msgpackr) reads back to the same values, in the smallest encoding at every
 * size boundary, that raw splices land verbatim, and that it grows past its
 * initial buffer.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Unpackr } from "msgpackr";
import { MsgpackWriter } from "../../src/msgpack/msgpack-writer.ts";

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "bigint" });
const written = (write: (writer: MsgpackWriter) => void): Uint8Array => {
  const writer = new MsgpackWriter(4);
  write(writer);
  return writer.finish();
};

describe("MsgpackWriter", () => {
  it("writes integers in their smallest form at every boundary", () => {
    const cases: [number, number][] = [
      [0, 1], [127, 1], [128, 2], [255, 2], [256, 3], [65_535, 3], [65_536, 5], [2 ** 32 - 1, 5], [2 ** 32, 9],
      [Number.MAX_SAFE_INTEGER, 9], [-1, 1], [-32, 1], [-33, 2], [-128, 2], [-129, 3], [-32_768, 3], [-32_769, 5],
      [-(2 ** 31), 5], [-(2 ** 31) - 1, 9], [Number.MIN_SAFE_INTEGER, 9],
    ];
    for (const [value, size] of cases) {
      const bytes = written((writer) => writer.number(value));
      assert.equal(bytes.length, size, `size of ${value}`);
      assert.equal(BigInt(unpackr.unpack(bytes)), BigInt(value), `value of ${value}`);
    }
  });

  it("writes 64-bit bigints and refuses wider ones", () => {
    for (const value of [2n ** 64n - 1n, 2n ** 63n, -(2n ** 63n), 2n ** 53n, 7n]) {
      assert.equal(BigInt(unpackr.unpack(written((writer) => writer.bigint(value)))), value);
    }
    assert.throws(() => new MsgpackWriter().bigint(2n ** 64n), RangeError);
    assert.throws(() => new MsgpackWriter().bigint(-(2n ** 63n) - 1n), RangeError);
  });

  it("writes other numbers as float64, NaN always as the same bytes", () => {
    assert.equal(unpackr.unpack(written((writer) => writer.number(0.1))), 0.1);
    assert.equal(unpackr.unpack(written((writer) => writer.number(-Infinity))), -Infinity);
    const nan = written((writer) => writer.number(Number.NaN));
    assert.deepEqual([...nan], [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]);
  });

  it("writes strings at every length boundary", () => {
    for (const [length, headerBytes] of [[0, 1], [31, 1], [32, 2], [255, 2], [256, 3], [65_535, 3], [65_536, 5]] as const) {
      const text = "é".repeat(length / 2) + "a".repeat(length % 2);
      const bytes = written((writer) => writer.str(text));
      assert.equal(bytes.length, headerBytes + length, `string of ${length} bytes`);
      assert.equal(unpackr.unpack(bytes), text);
    }
  });

  it("writes short strings, ASCII or not, and a non-ASCII character after ASCII ones leaves no trace of them", () => {
    for (const text of ["", "ok", "a".repeat(31), "a".repeat(32), "key-é", "ab\u007f", "日本", "a".repeat(30) + "é", "😀"]) {
      const bytes = written((writer) => writer.nil().str(text).nil());
      assert.deepEqual(unpackr.unpack(Uint8Array.from([0x93, ...bytes])), [null, text, null], JSON.stringify(text));
      assert.equal(bytes.length, 2 + new TextEncoder().encode(text).length + (new TextEncoder().encode(text).length < 32 ? 1 : 2));
    }
  });

  it("returns a plain Uint8Array of exactly the bytes written, each writer its own", () => {
    const first = new MsgpackWriter();
    const second = new MsgpackWriter();
    first.str("first");
    second.str("second");
    const bytes = first.finish();
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
    assert.equal(unpackr.unpack(bytes), "first");
    assert.equal(unpackr.unpack(second.finish()), "second");
  });

  it("writes arrays, maps, binary and extension headers", () => {
    const array = written((writer) => {
      writer.arrayHeader(17);
      for (let element = 0; element < 17; element++) writer.nil();
    });
    assert.deepEqual(unpackr.unpack(array), new Array(17).fill(null));
    const map = written((writer) => {
      writer.mapHeader(16);
      for (let entry = 0; entry < 16; entry++) writer.number(entry).bool(entry % 2 === 0);
    });
    assert.equal((unpackr.unpack(map) as Map<number, boolean>).size, 16);
    const binary = written((writer) => writer.binHeader(300).raw(new Uint8Array(300).fill(9)));
    assert.deepEqual(Uint8Array.from(unpackr.unpack(binary) as Uint8Array), new Uint8Array(300).fill(9));
    assert.deepEqual([...written((writer) => writer.extHeader(5, 4).raw(Uint8Array.of(1, 2, 3, 4)))], [0xd6, 5, 1, 2, 3, 4]);
    assert.deepEqual([...written((writer) => writer.extHeader(-3, 3).raw(Uint8Array.of(1, 2, 3)))], [0xc7, 3, 0xfd, 1, 2, 3]);
    assert.deepEqual([...written((writer) => writer.extHeader(1, 0))], [0xc7, 0, 1]);
  });

  it("splices raw bytes verbatim and grows past its initial size", () => {
    const big = new Uint8Array(100_000).map((_, at) => at % 251);
    const bytes = written((writer) => writer.arrayHeader(2).raw(Uint8Array.of(0xc3)).binHeader(big.length).raw(big));
    const [flag, data] = unpackr.unpack(bytes) as [boolean, Uint8Array];
    assert.equal(flag, true);
    assert.deepEqual(Uint8Array.from(data), big);
  });
});
