/**
 * Proves the client's wire codec (docs/protocol.md §3): requests are one
 * MessagePack map without undefined fields; a reply must be exactly one
 * frame holding one map with a boolean `ok`, and anything else is reported,
 * not thrown; values decode exactly as encoded (a `__proto__` key stays an
 * own key and no prototype changes, integers beyond 2^53 are bigints,
 * binary stays binary, maps with non-string keys stay Maps).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr, Unpackr } from "msgpackr";
import { decodeReply, encodeRequest } from "../../src/client/client-codec.ts";

const packr = new Packr({ useRecords: false, variableMapSize: true });

test("a request is one map, without the fields left undefined", () => {
  const bytes = encodeRequest({ op: "get", key: "k", stale: undefined });
  const decoded = new Unpackr({ useRecords: false, mapsAsObjects: false }).unpack(bytes) as Map<string, unknown>;
  assert.deepEqual([...decoded.entries()], [["op", "get"], ["key", "k"]]);
});

test("a null value is encoded as nil, an undefined one nested in a value too", () => {
  const bytes = encodeRequest({ op: "cas", key: "k", expect: null, value: [undefined] });
  assert.deepEqual(new Unpackr({ useRecords: false }).unpack(bytes), { op: "cas", key: "k", expect: null, value: [null] });
});

test("malformed replies are described, never thrown", () => {
  const one = packr.pack({ ok: true });
  assert.match(String(decodeReply([])), /0 frames/);
  assert.match(String(decodeReply([one, one])), /2 frames/);
  assert.match(String(decodeReply([Buffer.from([0xc1])])), /not MessagePack/);
  assert.match(String(decodeReply([Buffer.from([0x82, 0xa2, 0x6f, 0x6b, 0xc3, 0xa1, 0x76, 0x91, 0xc1])])), /0xc1/, "nested 0xc1");
  assert.match(String(decodeReply([Buffer.concat([one, one])])), /not MessagePack/, "trailing bytes");
  assert.match(String(decodeReply([Buffer.alloc(0)])), /not MessagePack/);
  assert.match(String(decodeReply([packr.pack([1, 2])])), /not a map/);
  assert.match(String(decodeReply([packr.pack(new Map([[1, true]]))])), /not a map with string keys/);
  assert.match(String(decodeReply([packr.pack({ ok: "yes" })])), /no boolean ok/);
});

test("values decode exactly as they were encoded", () => {
  const value = new Map<unknown, unknown>([
    ["__proto__", new Map([["polluted", true]])],
    ["constructor", "c"],
    ["big", 2n ** 64n - 1n],
    ["negative", -(2n ** 63n)],
    ["safe", 2 ** 53],
    ["bin", Buffer.from([1, 2, 3])],
    ["byNumber", new Map([[7, "seven"]])],
    ["list", [new Map([["a", 1]])]],
  ]);
  const reply = decodeReply([packr.pack(new Map<string, unknown>([["ok", true], ["value", value]]))]);
  assert.ok(typeof reply !== "string");
  const decoded = reply.value as Record<string, unknown>;
  assert.ok(Object.hasOwn(decoded, "__proto__"));
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(decoded, "__proto__")?.value, { polluted: true });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(decoded.constructor, "c");
  assert.equal(decoded.big, 2n ** 64n - 1n);
  assert.equal(decoded.negative, -(2n ** 63n));
  assert.equal(decoded.safe, 2 ** 53);
  assert.deepEqual(decoded.bin, Buffer.from([1, 2, 3]));
  assert.deepEqual(decoded.byNumber, new Map([[7, "seven"]]));
  assert.deepEqual(decoded.list, [{ a: 1 }]);
  assert.deepEqual(Object.keys(decoded), ["__proto__", "constructor", "big", "negative", "safe", "bin", "byNumber", "list"]);
});

test("a decoded value encodes back to the same bytes", () => {
  const original = packr.pack(new Map<string, unknown>([["ok", true], ["value", new Map<string, unknown>([["__proto__", 1], ["x", [2n ** 60n]]])]]));
  const reply = decodeReply([original]);
  assert.ok(typeof reply !== "string");
  assert.equal(encodeRequest(reply).toString("hex"), original.toString("hex"));
});

test("integers of the protocol's fields beyond 32 bits go as integers, not floats; values go as given", () => {
  const encoded = encodeRequest({ op: "list", limit: Number.MAX_SAFE_INTEGER, seq: 2 ** 40, value: 2 ** 40 });
  const decoded = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "bigint" }).unpack(encoded) as Record<string, unknown>;
  assert.equal(decoded.limit, BigInt(Number.MAX_SAFE_INTEGER));
  assert.equal(decoded.seq, 2n ** 40n);
  assert.equal(typeof decoded.value, "number", "a caller's value is encoded as msgpackr encodes it");
});
