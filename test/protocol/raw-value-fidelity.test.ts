/**
 * Proves that values are stored and returned exactly as sent, whatever
 * their shape, and that decoding never mutates a prototype (docs/protocol.md §7): a value
 * holding `__proto__` and `constructor` keys, an int64 of 2^63 - 1, binary,
 * nested arrays, a float32, an extension and a string that is not UTF-8
 * goes through parseRequest, the log's command encoding, the state machine
 * and encodeReply (get, list, cas), and comes back byte for byte, with no
 * prototype touched on the way.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Packr, Unpackr } from "msgpackr";
import { encodeCommand, type KvCommand } from "../../src/kv/commands.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import { encodeReply, okReply } from "../../src/protocol/client-reply.ts";
import { parseRequest, type Request } from "../../src/protocol/client-request.ts";
import { MsgpackReader } from "../../src/msgpack/msgpack-reader.ts";

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "bigint" });
const packed = (value: unknown): number[] => [...packr.pack(value)];

const float32OfOneAndAHalf = [0xca, 0x3f, 0xc0, 0x00, 0x00];
const timestampExtension = [0xd6, 0xff, 0x65, 0x53, 0xf1, 0x00];
const valueBytes = Uint8Array.from([
  0x88,
  ...packed("__proto__"), ...packed({ polluted: true }),
  ...packed("constructor"), ...packed({ prototype: { polluted: true } }),
  ...packed("big"), ...packed(2n ** 63n - 1n),
  ...packed("bin"), ...packed(Uint8Array.of(0, 1, 255)),
  ...packed("nested"), ...packed([[1, [2, [3, []]]], {}]),
  ...packed("f32"), ...float32OfOneAndAHalf,
  ...packed("ext"), ...timestampExtension,
  ...packed("not utf-8"), 0xa2, 0xff, 0xfe,
]);
const ridBytes = Uint8Array.from(packed(new Map<string, unknown>([["__proto__", 1], ["n", 2n ** 64n - 1n]])));

function parse(fields: Record<string, number[] | Uint8Array>): Request {
  const entries = Object.entries(fields);
  const frame = Uint8Array.from([0x80 | entries.length, ...entries.flatMap(([name, bytes]) => [...packed(name), ...bytes])]);
  const result = parseRequest([frame]);
  assert.ok(result.ok, result.ok ? "" : result.message);
  return result.request;
}

/** The raw bytes of one field of an encoded reply map. */
function replyField(reply: Uint8Array, name: string): Uint8Array {
  const reader = new MsgpackReader(reply);
  const entry = reader.mapEntries(0).find((span) => unpackr.unpack(reader.slice(span.keyStart, span.keyEnd)) === name);
  assert.ok(entry !== undefined, `the reply has a ${name} field`);
  return Uint8Array.from(reader.slice(entry.valueStart, entry.valueEnd));
}

describe("a value's bytes from request to reply", () => {
  const machine = new KvStore();
  const apply = (command: KvCommand) =>
    machine.apply({ index: machine.lastApplied + 1, term: 1, type: "command", data: encodeCommand(command) });

  it("are kept exactly by parseRequest, the log and the state machine", () => {
    const request = parse({ op: packed("put"), key: packed("odd"), value: valueBytes, rid: ridBytes });
    assert.ok(request.op === "put");
    assert.deepEqual(request.value, valueBytes);
    assert.deepEqual(request.rid, ridBytes);
    assert.deepEqual(apply({ op: "put", key: request.key, value: request.value }), { kind: "put", index: 1 });
    assert.deepEqual(machine.read("odd"), valueBytes);
  });

  it("come back verbatim in get, list and cas replies, with rid", () => {
    const context = { term: 1, leaderId: 1, rid: ridBytes };
    const stored = machine.read("odd");
    const getReply = encodeReply(okReply({ op: "get", value: stored, found: true }, context));
    assert.deepEqual(replyField(getReply, "value"), valueBytes);
    assert.deepEqual(replyField(getReply, "rid"), ridBytes);

    const listReply = encodeReply(okReply({ op: "list", entries: machine.list(), more: false }, context));
    assert.deepEqual(replyField(listReply, "entries"), Uint8Array.from([0x91, 0x92, ...packed("odd"), ...valueBytes]));

    const cas = parse({ op: packed("cas"), key: packed("odd"), expect: valueBytes, value: valueBytes });
    assert.ok(cas.op === "cas");
    const result = apply({ op: "cas", key: cas.key, expect: cas.expect, value: cas.value });
    assert.ok(result?.kind === "cas" && result.swapped);
    const casReply = encodeReply(okReply({ op: "cas", index: result.index, swapped: true, value: result.value }, context));
    assert.deepEqual(replyField(casReply, "value"), valueBytes);
  });

  it("decode to the values sent, and no prototype was touched", () => {
    const reply = encodeReply(okReply({ op: "get", value: machine.read("odd"), found: true }, { term: 1, leaderId: null, rid: null }));
    const value = (unpackr.unpack(reply) as Map<string, unknown>).get("value") as Map<string, unknown>;
    assert.equal(value.get("big"), 2n ** 63n - 1n);
    assert.equal(value.get("f32"), 1.5);
    assert.deepEqual(value.get("nested"), [[1, [2, [3, []]]], new Map()]);
    assert.deepEqual((value.get("__proto__") as Map<string, unknown>).get("polluted"), true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
  });
});
