/**
 * Proves the CAS equality rule of value-equality.ts: identical bytes are
 * equal; so are values that differ only in encoding (integer widths, float
 * vs integer, str8 vs fixstr, map entry order, fixext vs ext8); different
 * values, types or lengths are not; and a large map compares in far less
 * than quadratic time.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FLOAT32_OPTIONS, Packr } from "msgpackr";
import { canonicalForm, msgpackValuesEqual } from "../../src/kv/value-equality.ts";

const packr = new Packr({ useRecords: false });
const float32Packr = new Packr({ useRecords: false, useFloat32: FLOAT32_OPTIONS.ALWAYS });
const raw = (...values: number[]): Uint8Array => Uint8Array.from(values);
const packed = (value: unknown): Uint8Array => Uint8Array.from(packr.pack(value));

describe("msgpackValuesEqual", () => {
  it("treats identical bytes as equal", () => {
    assert.ok(msgpackValuesEqual(packed({ a: [1, "x"] }), packed({ a: [1, "x"] })));
  });

  it("compares integers by value whatever their width", () => {
    const five = [raw(0x05), raw(0xcc, 5), raw(0xcd, 0, 5), raw(0xce, 0, 0, 0, 5), raw(0xcf, 0, 0, 0, 0, 0, 0, 0, 5), raw(0xd0, 5), raw(0xd3, 0, 0, 0, 0, 0, 0, 0, 5)];
    for (const a of five) for (const b of five) assert.ok(msgpackValuesEqual(a, b), `${a} vs ${b}`);
    assert.ok(msgpackValuesEqual(raw(0xff), raw(0xd1, 0xff, 0xff)), "-1 as fixint and int16");
    assert.ok(!msgpackValuesEqual(raw(0x05), raw(0x06)));
    assert.ok(!msgpackValuesEqual(raw(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), raw(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), "2^64-1 is not -1");
  });

  it("compares numbers by value across integers and floats", () => {
    const fiveFloat64 = raw(0xcb, 0x40, 0x14, 0, 0, 0, 0, 0, 0);
    assert.ok(msgpackValuesEqual(raw(0x05), fiveFloat64));
    assert.ok(msgpackValuesEqual(Uint8Array.from(float32Packr.pack(1.5)), packed(1.5)));
    assert.ok(!msgpackValuesEqual(Uint8Array.from(float32Packr.pack(0.1)), packed(0.1)), "float32 0.1 is another number");
    assert.ok(msgpackValuesEqual(packed(-0), raw(0x00)));
    assert.ok(msgpackValuesEqual(raw(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1), raw(0xca, 0x7f, 0xc0, 0, 0)), "NaN equals NaN");
    assert.ok(msgpackValuesEqual(packed(2 ** 60), raw(0xcf, 0x10, 0, 0, 0, 0, 0, 0, 0)), "2^60 as float64 and uint64");
    assert.ok(!msgpackValuesEqual(packed(1e30), packed(Infinity)));
  });

  it("compares strings, binaries and extensions by bytes and never a string with a binary", () => {
    assert.ok(msgpackValuesEqual(raw(0xa1, 0x61), raw(0xd9, 1, 0x61)));
    assert.ok(msgpackValuesEqual(raw(0xa2, 0xff, 0xfe), raw(0xda, 0, 2, 0xff, 0xfe)), "strings that are not UTF-8 compare by bytes");
    assert.ok(!msgpackValuesEqual(raw(0xa1, 0x61), raw(0xc4, 1, 0x61)));
    assert.ok(msgpackValuesEqual(raw(0xc4, 1, 0x61), raw(0xc5, 0, 1, 0x61)));
    assert.ok(msgpackValuesEqual(raw(0xd4, 3, 9), raw(0xc7, 1, 3, 9)));
    assert.ok(!msgpackValuesEqual(raw(0xd4, 3, 9), raw(0xd4, 4, 9)));
  });

  it("compares arrays by element and maps regardless of entry order", () => {
    assert.ok(msgpackValuesEqual(packed([1, [2, "x"]]), raw(0xdc, 0, 2, 0xcc, 1, 0x92, 0xd0, 2, 0xa1, 0x78)));
    assert.ok(!msgpackValuesEqual(packed([1, 2]), packed([2, 1])));
    assert.ok(!msgpackValuesEqual(packed([1]), packed([1, 1])));
    assert.ok(msgpackValuesEqual(packed(new Map<unknown, unknown>([["a", 1], [2, { b: null }]])), packed(new Map<unknown, unknown>([[2, { b: null }], ["a", 1]]))));
    assert.ok(!msgpackValuesEqual(packed({ a: 1, b: 2 }), packed({ a: 2, b: 1 })));
    assert.ok(!msgpackValuesEqual(packed({ a: 1 }), packed({ a: 1, b: 1 })));
    assert.ok(!msgpackValuesEqual(packed({}), packed([])));
    assert.ok(!msgpackValuesEqual(packed(null), packed(false)));
  });

  it("compares a map of 100,000 entries against its reverse quickly", () => {
    const entries = Array.from({ length: 100_000 }, (_, i) => [`key-${i}`, i] as const);
    const forward = packed(new Map(entries));
    const backward = packed(new Map([...entries].reverse()));
    assert.ok(msgpackValuesEqual(forward, backward));
    const changed = packed(new Map([...entries.slice(1), ["key-0", -1]]));
    assert.ok(!msgpackValuesEqual(forward, changed));
  });

  it("gives equal values the same canonical form and refuses malformed bytes", () => {
    assert.deepEqual(canonicalForm(raw(0xcd, 0, 5)), raw(0x05));
    assert.throws(() => canonicalForm(raw(0x92, 0x01)), /declares 2 elements/);
    assert.throws(() => canonicalForm(raw(0x01, 0x02)), /trailing/);
  });
});
