/**
 * Proves that parseRequest applies every validation rule of docs/protocol.md §6
 * ("Validation"), one case per rule, with a message that names the field,
 * echoes `rid` whenever the request decoded to a map, ignores unknown fields,
 * and never throws, whatever the bytes (hostile lengths, deep nesting,
 * 8 MiB frames, random garbage). Also proves that encodeReply writes each
 * reply of docs/protocol.md §5 with exactly its fields.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Packr, Unpackr } from "msgpackr";
import { compactedReply, encodeReply, errorReply, okReply, type ReplyContext } from "../../src/protocol/client-reply.ts";
import { parseRequest, type ParseResult, type Request } from "../../src/protocol/client-request.ts";
import { MsgpackReader } from "../../src/msgpack/msgpack-reader.ts";

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "bigint" });
const frame = (request: unknown): Uint8Array => Uint8Array.from(packr.pack(request));
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

function accepted(frames: Uint8Array[] | Uint8Array): Request {
  const result = parseRequest(Array.isArray(frames) ? frames : [frames], { serverIds: new Set([1, 2, 3, 4, 5]) });
  assert.ok(result.ok, result.ok ? "" : result.message);
  return result.request;
}

function refused(frames: Uint8Array[] | Uint8Array, pattern: RegExp): Extract<ParseResult, { ok: false }> {
  const result = parseRequest(Array.isArray(frames) ? frames : [frames], { serverIds: new Set([1, 2, 3, 4, 5]) });
  assert.equal(result.ok, false, `expected BAD_REQUEST matching ${pattern}`);
  assert.ok(!result.ok);
  assert.match(result.message, pattern);
  return result;
}

/** A bin value whose MessagePack encoding (bin32 header included) is exactly `encodedBytes` long. */
function binaryValueOfEncodedSize(encodedBytes: number): Uint8Array {
  const dataBytes = encodedBytes - 5;
  const value = new Uint8Array(encodedBytes);
  value[0] = 0xc6;
  new DataView(value.buffer).setUint32(1, dataBytes);
  return value;
}

/** A frame {op: "put", key: "k", value: <raw>} with the value spliced in. */
function putWithRawValue(rawValue: Uint8Array): Uint8Array {
  return concat(bytes(0x83), frame("op"), frame("put"), frame("key"), frame("k"), frame("value"), rawValue);
}

describe("parseRequest: the frame", () => {
  it("refuses a message of more than one frame, or none", () => {
    refused([frame({ op: "status" }), frame({ op: "status" })], /exactly one frame, but this message has 2/);
    refused([], /exactly one frame, but this message has 0/);
  });
  it("refuses an empty frame", () => {
    refused(new Uint8Array(0), /frame is empty/);
  });
  it("refuses garbage bytes", () => {
    refused(bytes(0xc1, 0x00, 0x17), /not exactly one well-formed MessagePack value.*0xc1/);
  });
  it("refuses a cut-short value", () => {
    refused(frame({ op: "status" }).subarray(0, 5), /not exactly one well-formed/);
  });
  it("refuses trailing bytes after the value", () => {
    const result = refused(concat(frame({ op: "status", rid: 1 }), bytes(0x01)), /1 trailing bytes/);
    assert.equal(result.rid, null);
  });
  it("refuses a value that is not a map", () => {
    refused(frame(["op", "get"]), /must be a MessagePack map, not an array/);
    refused(frame("get"), /not a string/);
    refused(bytes(0xc0), /not nil/);
  });
  it("refuses a str32 that declares 4 GB inside a short frame", () => {
    refused(concat(bytes(0x81), frame("op"), bytes(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61)), /declares 4294967295 bytes/);
  });
  it("refuses a map32 that declares 4 billion entries", () => {
    refused(bytes(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61), /declares 4294967295 entries/);
  });
});

describe("parseRequest: field names", () => {
  it("refuses a field that appears twice, echoing rid", () => {
    const twice = concat(bytes(0x83), frame("op"), frame("get"), frame("rid"), frame(9), frame("op"), frame("put"));
    assert.deepEqual(refused(twice, /"op" appears more than once/).rid, frame(9));
  });
  it("refuses a field name that is not a string", () => {
    refused(concat(bytes(0x82), frame("op"), frame("status"), frame(1), frame(2)), /field names must be strings, but one is an integer/);
  });
  it("refuses a field name that is not valid UTF-8", () => {
    refused(concat(bytes(0x82), frame("op"), frame("status"), bytes(0xa2, 0xff, 0xfe), frame(2)), /field name is not valid UTF-8/);
  });
});

describe("parseRequest: op", () => {
  it("refuses a missing op", () => {
    refused(frame({ key: "k" }), /the request needs the field "op"/);
  });
  it("refuses an op that is not a string", () => {
    refused(frame({ op: 1 }), /op must be a string, not an integer/);
  });
  it("refuses an unknown op, naming the ops", () => {
    refused(frame({ op: "increment" }), /unknown op "increment"; the ops are "get", "put", "delete", "list", "cas", "status", "admin", "watch"/);
  });
  it("shortens a long unknown op in its message", () => {
    const result = refused(frame({ op: "x".repeat(10_000) }), /unknown op "x{40}"…/);
    assert.ok(result.message.length < 200);
  });
  it("refuses an op that is not valid UTF-8", () => {
    refused(concat(bytes(0x81), frame("op"), bytes(0xa3, 0x67, 0x65, 0xff)), /op is not valid UTF-8/);
  });
});

describe("parseRequest: key", () => {
  for (const op of ["get", "put", "delete", "cas"]) {
    it(`refuses a ${op} without a key`, () => {
    refused(frame({ op, value: 1, expect: 1 }), new RegExp(`a "${op}" request needs the field "key"`));
  });
  }
  it("accepts a key of 1024 bytes and refuses one of 1025", () => {
    const key1024 = "é".repeat(512);
    assert.deepEqual(accepted(frame({ op: "get", key: key1024 })), { op: "get", key: key1024, stale: false, rid: null });
    refused(frame({ op: "get", key: `${key1024}a` }), /key must be 1 to 1024 bytes of UTF-8, but it has 1025/);
  });
  it("refuses an empty key", () => {
    refused(frame({ op: "delete", key: "" }), /key must be 1 to 1024 bytes of UTF-8, but it has 0/);
  });
  it("refuses a key that is not a string", () => {
    refused(frame({ op: "get", key: 5 }), /key must be a string, not an integer/);
    refused(frame({ op: "get", key: Uint8Array.of(0x61) }), /key must be a string, not binary data/);
  });
  it("refuses a key that is not valid UTF-8 rather than replacing bad bytes", () => {
    refused(concat(bytes(0x82), frame("op"), frame("get"), frame("key"), bytes(0xa2, 0x61, 0xff)), /key is not valid UTF-8/);
    refused(concat(bytes(0x82), frame("op"), frame("get"), frame("key"), bytes(0xa3, 0xed, 0xa0, 0x80)), /key is not valid UTF-8/);
  });
  it("keeps a key's leading byte order mark", () => {
    const request = accepted(concat(bytes(0x82), frame("op"), frame("get"), frame("key"), bytes(0xa4, 0xef, 0xbb, 0xbf, 0x61)));
    assert.equal(request.op === "get" && request.key, "\ufeffa");
  });
});

describe("parseRequest: value and expect", () => {
  it("refuses a put without a value, a cas without expect or value", () => {
    refused(frame({ op: "put", key: "k" }), /a "put" request needs the field "value"/);
    refused(frame({ op: "cas", key: "k", value: 1 }), /a "cas" request needs the field "expect"/);
    refused(frame({ op: "cas", key: "k", expect: 1 }), /a "cas" request needs the field "value"/);
  });
  it("accepts a value of exactly 1 MiB encoded and refuses 1 MiB + 1", () => {
    const exact = binaryValueOfEncodedSize(1_048_576);
    const request = accepted(putWithRawValue(exact));
    assert.ok(request.op === "put");
    assert.equal(request.value.length, 1_048_576);
    assert.deepEqual(request.value, exact);
    refused(putWithRawValue(binaryValueOfEncodedSize(1_048_577)), /value is 1048577 bytes of MessagePack, more than the limit of 1048576 bytes/);
  });
  it("applies the same limit to expect", () => {
    const tooBig = binaryValueOfEncodedSize(1_048_577);
    const cas = concat(bytes(0x84), frame("op"), frame("cas"), frame("key"), frame("k"), frame("value"), frame(1), frame("expect"), tooBig);
    refused(cas, /expect is 1048577 bytes/);
  });
  it("copies value and rid out of a Buffer frame into plain Uint8Arrays", () => {
    const buffer = Buffer.from(frame({ op: "put", key: "k", value: [1, 2], rid: "r" }));
    const request = accepted([buffer]);
    buffer.fill(0);
    assert.ok(request.op === "put");
    assert.deepEqual(request.value, bytes(0x92, 0x01, 0x02));
    assert.deepEqual(request.rid, bytes(0xa1, 0x72));
  });
  it("reads a nil expect as 'the key must be absent'", () => {
    const request = accepted(frame({ op: "cas", key: "k", expect: null, value: 2 }));
    assert.ok(request.op === "cas");
    assert.equal(request.expect, null);
    assert.deepEqual(request.value, bytes(0x02));
  });
  it("keeps value and expect as the exact bytes sent, even a string that is not UTF-8", () => {
    const notUtf8 = bytes(0xa2, 0xff, 0xfe);
    const wideInt = bytes(0xcf, 0, 0, 0, 0, 0, 0, 0, 5);
    const cas = concat(bytes(0x84), frame("op"), frame("cas"), frame("key"), frame("k"), frame("expect"), wideInt, frame("value"), notUtf8);
    const request = accepted(cas);
    assert.ok(request.op === "cas");
    assert.deepEqual(request.expect, wideInt);
    assert.deepEqual(request.value, notUtf8);
  });
  it(`accepts a value nested 100 deep and refuses 101, and a 100,000-deep one without crashing`, () => {
    const nested = (depth: number) => new Uint8Array([...new Array<number>(depth).fill(0x91), 0xc0]);
    accepted(putWithRawValue(nested(100)));
    refused(putWithRawValue(nested(101)), /nests arrays and maps deeper than the limit of 100 levels inside a field/);
    refused(putWithRawValue(nested(100_000)), /deeper than the limit of 100 levels/);
  });
  it("answers an 8 MiB request with BAD_REQUEST", () => {
    const huge = concat(bytes(0x84), frame("op"), frame("put"), frame("key"), frame("k"), frame("rid"), frame("r"), frame("value"), binaryValueOfEncodedSize(8 * 1_048_576));
    assert.deepEqual(refused(huge, /value is 8388608 bytes of MessagePack/).rid, frame("r"));
  });
});

describe("parseRequest: list", () => {
  it("accepts no prefix and no limit", () => {
    assert.deepEqual(accepted(frame({ op: "list" })), { op: "list", stale: false, rid: null });
  });
  it("accepts a prefix, a limit and stale", () => {
    assert.deepEqual(accepted(frame({ op: "list", prefix: "a/", limit: 3, stale: true })), {
      op: "list",
      prefix: "a/",
      limit: 3,
      stale: true,
      rid: null,
    });
  });
  it("refuses a prefix that is not a string or not UTF-8", () => {
    refused(frame({ op: "list", prefix: 7 }), /prefix must be a string, not an integer/);
    refused(concat(bytes(0x82), frame("op"), frame("list"), frame("prefix"), bytes(0xa1, 0x80)), /prefix is not valid UTF-8/);
  });
  it("refuses a limit that is not a positive integer", () => {
    refused(frame({ op: "list", limit: 0 }), /limit must be a positive integer, not 0/);
    refused(frame({ op: "list", limit: -4 }), /limit must be a positive integer.*not -4/);
    refused(frame({ op: "list", limit: 1.5 }), /limit must be a positive integer, not a float/);
    refused(frame({ op: "list", limit: "3" }), /limit must be a positive integer, not a string/);
    refused(frame({ op: "list", limit: -(2n ** 60n) }), /limit must be a positive integer, not -1152921504606846976/);
  });
  it("accepts any positive limit, however large, and a page's starting key", () => {
    for (const limit of [2n ** 53n, 2n ** 60n, 2n ** 64n - 1n]) {
      const request = accepted(frame({ op: "list", limit, after: "k/5" }));
      assert.ok(request.op === "list");
      assert.equal(request.limit, Number.MAX_SAFE_INTEGER);
      assert.equal(request.after, "k/5");
    }
    refused(frame({ op: "list", after: 5 }), /after must be a string, not an integer/);
    refused(frame({ op: "put", key: "k", value: 1, client: "c", seq: 2n ** 60n }), /seq must be a positive integer no larger than 2\^53 - 1/);
  });
  it("refuses a stale that is not a boolean", () => {
    refused(frame({ op: "get", key: "k", stale: 1 }), /stale must be a boolean, not an integer/);
  });
});

describe("parseRequest: client and seq", () => {
  it("accepts a put with client and seq", () => {
    assert.deepEqual(accepted(frame({ op: "put", key: "k", value: 1, client: "c1", seq: 7 })), {
      op: "put",
      key: "k",
      value: bytes(0x01),
      client: "c1",
      seq: 7,
      rid: null,
    });
  });
  it("refuses seq without client, and client without seq", () => {
    refused(frame({ op: "put", key: "k", value: 1, seq: 1 }), /seq was given without client/);
    refused(frame({ op: "delete", key: "k", client: "c" }), /client was given without seq; seq is required with client/);
  });
  it("refuses a seq that is not a positive integer", () => {
    refused(frame({ op: "delete", key: "k", client: "c", seq: 0 }), /seq must be a positive integer/);
    refused(frame({ op: "delete", key: "k", client: "c", seq: true }), /seq must be a positive integer, not a boolean/);
  });
  it("accepts a client of 128 bytes and refuses 129 or none", () => {
    accepted(frame({ op: "delete", key: "k", client: "c".repeat(128), seq: 1 }));
    refused(frame({ op: "delete", key: "k", client: "c".repeat(129), seq: 1 }), /client must be 1 to 128 bytes of UTF-8, but it has 129/);
    refused(frame({ op: "delete", key: "k", client: "", seq: 1 }), /client must be 1 to 128 bytes of UTF-8, but it has 0/);
  });
  it("refuses a client that is not a string or not UTF-8", () => {
    refused(frame({ op: "cas", key: "k", expect: 1, value: 2, client: 5, seq: 1 }), /client must be a string, not an integer/);
    const badClient = concat(bytes(0x85), frame("op"), frame("put"), frame("key"), frame("k"), frame("value"), frame(1), frame("seq"), frame(1), frame("client"), bytes(0xa1, 0xc3));
    refused(badClient, /client is not valid UTF-8/);
  });
});

describe("parseRequest: admin", () => {
  it("accepts each action", () => {
    for (const action of ["timeout", "step-down", "shutdown", "snapshot"]) {
      assert.deepEqual(accepted(frame({ op: "admin", action })), { op: "admin", action, rid: null });
    }
    assert.deepEqual(accepted(frame({ op: "admin", action: "backup", chunk: 0 })), { op: "admin", action: "backup", chunk: 0, rid: null });
    assert.deepEqual(accepted(frame({ op: "admin", action: "backup", chunk: 2n ** 53n - 1n })), { op: "admin", action: "backup", chunk: 2 ** 53 - 1, rid: null });
    assert.deepEqual(accepted(frame({ op: "admin", action: "transfer", target: 3 })), {
      op: "admin",
      action: "transfer",
      target: 3,
      rid: null,
    });
  });
  it("refuses a missing or unknown action", () => {
    refused(frame({ op: "admin" }), /a "admin" request needs the field "action"/);
    refused(frame({ op: "admin", action: "reboot" }), /unknown admin action "reboot"; the actions are "timeout", "step-down", "shutdown", "transfer", "snapshot", "backup"/);
  });
  it("refuses a backup without a chunk, or with one that is not a non-negative integer of at most 2^53 - 1", () => {
    refused(frame({ op: "admin", action: "backup" }), /a backup needs a chunk/);
    refused(frame({ op: "admin", action: "backup", chunk: -1 }), /chunk must be a non-negative integer no larger than 2\^53 - 1, not -1/);
    refused(frame({ op: "admin", action: "backup", chunk: 1.5 }), /chunk must be a non-negative integer, not a float/);
    refused(frame({ op: "admin", action: "backup", chunk: "0" }), /chunk must be a non-negative integer, not a string/);
    refused(frame({ op: "admin", action: "backup", chunk: 2n ** 53n }), /chunk must be a non-negative integer no larger than 2\^53 - 1/);
    // A chunk on another action is a field that action does not use: ignored.
    assert.deepEqual(accepted(frame({ op: "admin", action: "snapshot", chunk: "x" })), { op: "admin", action: "snapshot", rid: null });
  });
  it("refuses a transfer without a target, with a bad target, or to a server that does not exist", () => {
    refused(frame({ op: "admin", action: "transfer" }), /a transfer needs a target/);
    refused(frame({ op: "admin", action: "transfer", target: 0 }), /target must be a positive integer/);
    refused(frame({ op: "admin", action: "transfer", target: "2" }), /target must be a positive integer, not a string/);
    refused(frame({ op: "admin", action: "transfer", target: 9 }), /target 9 is not a server of this cluster \(the servers are 1, 2, 3, 4, 5\)/);
  });
  it("checks only that a target is a positive integer when the cluster's ids are not given", () => {
    const result = parseRequest([frame({ op: "admin", action: "transfer", target: 9 })]);
    assert.ok(result.ok);
  });
});

describe("parseRequest: watch", () => {
  it("accepts a bare watch: every key, from the next change, the default hold", () => {
    assert.deepEqual(accepted(frame({ op: "watch" })), { op: "watch", waitMs: 10_000, rid: null });
  });
  it("accepts every field", () => {
    assert.deepEqual(accepted(frame({ op: "watch", prefix: "town/", from: 42, limit: 5, waitMs: 0 })), {
      op: "watch",
      prefix: "town/",
      from: 42,
      limit: 5,
      waitMs: 0,
      rid: null,
    });
    const request = accepted(frame({ op: "watch", from: BigInt(Number.MAX_SAFE_INTEGER), limit: 2n ** 64n - 1n, waitMs: 60_000 }));
    assert.ok(request.op === "watch");
    assert.deepEqual([request.from, request.limit, request.waitMs], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 60_000]);
  });
  it("refuses a from that is not a positive integer of at most 2^53 - 1", () => {
    refused(frame({ op: "watch", from: 0 }), /from must be a positive integer no larger than 2\^53 - 1, not 0/);
    refused(frame({ op: "watch", from: -3 }), /from must be a positive integer.*not -3/);
    refused(frame({ op: "watch", from: 2n ** 53n }), /from must be a positive integer no larger than 2\^53 - 1, not 9007199254740992/);
    refused(frame({ op: "watch", from: 4.5 }), /from must be a positive integer, not a float/);
    refused(frame({ op: "watch", from: "7" }), /from must be a positive integer, not a string/);
  });
  it("refuses a waitMs outside 0 to 60,000 or not an integer", () => {
    refused(frame({ op: "watch", waitMs: 60_001 }), /waitMs must be an integer from 0 to 60000 \(milliseconds\), not 60001/);
    refused(frame({ op: "watch", waitMs: -1 }), /waitMs must be an integer from 0 to 60000 \(milliseconds\), not -1/);
    refused(frame({ op: "watch", waitMs: 2n ** 63n }), /waitMs must be an integer from 0 to 60000 \(milliseconds\), not 9223372036854775808/);
    refused(frame({ op: "watch", waitMs: 1.5 }), /waitMs must be an integer from 0 to 60000 \(milliseconds\), not a float/);
    refused(frame({ op: "watch", waitMs: null }), /waitMs must be an integer from 0 to 60000 \(milliseconds\), not nil/);
  });
  it("refuses a limit that is not a positive integer, and a prefix that is not a string of UTF-8", () => {
    refused(frame({ op: "watch", limit: 0 }), /limit must be a positive integer, not 0/);
    refused(frame({ op: "watch", prefix: ["a"] }), /prefix must be a string, not an array/);
    refused(concat(bytes(0x82), frame("op"), frame("watch"), frame("prefix"), bytes(0xa1, 0x80)), /prefix is not valid UTF-8/);
  });
});

describe("parseRequest: rid and unknown fields", () => {
  it("echoes rid, as its exact bytes, on success and on BAD_REQUEST", () => {
    const rid = { n: 1, tag: [true, null, "x"] };
    const request = accepted(frame({ op: "status", rid }));
    assert.deepEqual(request, { op: "status", rid: frame(rid) });
    assert.deepEqual(refused(frame({ op: "get", rid }), /needs the field "key"/).rid, frame(rid));
    assert.deepEqual(refused(frame({ op: "nope", rid: null }), /unknown op/).rid, bytes(0xc0));
  });
  it("echoes no rid when the request did not decode to a map", () => {
    assert.equal(refused(frame([{ rid: 1 }]), /not an array/).rid, null);
  });
  it("ignores fields not in the table, and fields the op does not use", () => {
    assert.deepEqual(accepted(frame({ op: "get", key: "k", colour: "blue", prefix: 5, limit: "x", client: 1 })), {
      op: "get",
      key: "k",
      stale: false,
      rid: null,
    });
    assert.deepEqual(accepted(frame({ op: "status", key: 5, value: null })), { op: "status", rid: null });
  });
});

describe("parseRequest never throws", () => {
  it("on 20,000 random and mutated frames", () => {
    let seed = 12345;
    const random = (below: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % below;
    };
    const valid = [
      frame({ op: "cas", key: "k", expect: { a: [1, 2] }, value: "v", client: "c", seq: 3, rid: 1 }),
      frame({ op: "list", prefix: "p", limit: 2 }),
      frame({ op: "admin", action: "transfer", target: 2 }),
    ];
    for (let round = 0; round < 20_000; round++) {
      let input: Uint8Array;
      if (round % 2 === 0) {
        input = new Uint8Array(1 + random(40)).map(() => random(256));
      } else {
        input = Uint8Array.from(valid[round % valid.length] as Uint8Array);
        for (let flips = 1 + random(3); flips > 0; flips--) input[random(input.length)] = random(256);
      }
      const result = parseRequest([input]);
      assert.equal(typeof result.ok, "boolean");
    }
  });
});

describe("encodeReply", () => {
  const context: ReplyContext = { term: 7, leaderId: 2, rid: null };
  const decode = (reply: Uint8Array) => Object.fromEntries(unpackr.unpack(reply) as Map<string, unknown>);

  it("writes each successful reply with exactly its fields", () => {
    assert.deepEqual(decode(encodeReply(okReply({ op: "get", value: frame("v"), found: true }, context))), {
      ok: true, value: "v", found: true, term: 7, leaderId: 2,
    });
    assert.deepEqual(decode(encodeReply(okReply({ op: "get", value: null, found: false }, context))), {
      ok: true, value: null, found: false, term: 7, leaderId: 2,
    });
    assert.deepEqual(decode(encodeReply(okReply({ op: "put", index: 300 }, context))), { ok: true, index: 300, term: 7, leaderId: 2 });
    assert.deepEqual(decode(encodeReply(okReply({ op: "delete", index: 4, found: false }, context))), {
      ok: true, index: 4, found: false, term: 7, leaderId: 2,
    });
    assert.deepEqual(decode(encodeReply(okReply({ op: "cas", index: 5, swapped: false, value: null }, context))), {
      ok: true, index: 5, swapped: false, value: null, term: 7, leaderId: 2,
    });
    assert.deepEqual(decode(encodeReply(okReply({ op: "admin", action: "step-down" }, { ...context, leaderId: null }))), {
      ok: true, action: "step-down", term: 7, leaderId: null,
    });
    const members = [{ id: 3, client: "tcp://127.0.0.1:5002", voter: true }, { id: 6, client: null, voter: false }];
    const status = okReply(
      { op: "status", id: 3, pid: 4242, role: "follower", commitIndex: 9, lastApplied: 8, lastLogIndex: 10, logStartIndex: 4, snapshotIndex: 6, votedFor: null, uptimeMs: 5, members },
      context,
    );
    const decodedStatus = decode(encodeReply(status));
    assert.deepEqual({ ...decodedStatus, members: (decodedStatus.members as Map<string, unknown>[]).map((member) => Object.fromEntries(member)) }, {
      ok: true, id: 3, pid: 4242, role: "follower", commitIndex: 9, lastApplied: 8, lastLogIndex: 10, logStartIndex: 4, snapshotIndex: 6, votedFor: null, uptimeMs: 5, members, term: 7, leaderId: 2,
    });
  });

  it("writes an admin reply with the fields of its action: a snapshot's position, a backup chunk as binary", () => {
    assert.deepEqual(decode(encodeReply(okReply({ op: "admin", action: "snapshot", snapshotIndex: 12_345, snapshotTerm: 3 }, context))), {
      ok: true, action: "snapshot", snapshotIndex: 12_345, snapshotTerm: 3, term: 7, leaderId: 2,
    });
    const data = Uint8Array.of(0x81, 0xa1, 0x78, 0xc1);
    const backup = encodeReply(okReply({ op: "admin", action: "backup", snapshotIndex: 40, snapshotTerm: 2, chunk: 1, last: true, data }, context));
    const decoded = decode(backup);
    assert.deepEqual({ ...decoded, data: Uint8Array.from(decoded.data as Uint8Array) }, {
      ok: true, action: "backup", snapshotIndex: 40, snapshotTerm: 2, chunk: 1, last: true, data, term: 7, leaderId: 2,
    });
    // The chunk's bytes travel as MessagePack bin, not spliced in as a value (they need not be one).
    assert.ok(Buffer.from(backup).includes(Buffer.from([0xc4, data.length, ...data])));
  });

  it("writes list entries as [key, value] pairs with raw values", () => {
    const reply = encodeReply(okReply({ op: "list", entries: [["a", frame(1)], ["b", frame([true])]], more: true }, context));
    assert.deepEqual(decode(reply).entries, [["a", 1], ["b", [true]]]);
    assert.equal(decode(reply).more, true);
  });

  it("writes a watch's events as maps, a put's with its raw value, and next", () => {
    const events = [
      { index: 42, type: "put" as const, key: "town", value: frame({ name: "Porto" }) },
      { index: 43, type: "delete" as const, key: "town" },
    ];
    assert.deepEqual(decode(encodeReply(okReply({ op: "watch", events, next: 44 }, context))), {
      ok: true,
      events: [
        new Map<string, unknown>([["index", 42], ["type", "put"], ["key", "town"], ["value", new Map([["name", "Porto"]])]]),
        new Map<string, unknown>([["index", 43], ["type", "delete"], ["key", "town"]]),
      ],
      next: 44,
      term: 7,
      leaderId: 2,
    });
  });

  it("writes COMPACTED with the oldest index still served", () => {
    assert.deepEqual(decode(encodeReply(compactedReply("the changes before index 9 are no longer kept", 9, context))), {
      ok: false, error: "COMPACTED", message: "the changes before index 9 are no longer kept", oldest: 9, term: 7, leaderId: 2,
    });
  });

  it("writes an error reply with leader when known, and rid verbatim", () => {
    const rid = frame({ id: 2n ** 63n - 1n });
    const reply = encodeReply(errorReply("NOT_LEADER", "server 1 is not the leader", { ...context, leader: "tcp://127.0.0.1:5001", rid }));
    assert.deepEqual(decode(reply), {
      ok: false,
      error: "NOT_LEADER",
      message: "server 1 is not the leader",
      term: 7,
      leaderId: 2,
      leader: "tcp://127.0.0.1:5001",
      rid: new Map([["id", 2n ** 63n - 1n]]),
    });
    const reader = new MsgpackReader(reply);
    const ridEntry = reader.mapEntries(0).find((entry) => unpackr.unpack(reader.slice(entry.keyStart, entry.keyEnd)) === "rid");
    assert.deepEqual(Uint8Array.from(reader.slice(ridEntry!.valueStart, ridEntry!.valueEnd)), rid);
  });

  it("omits leader from successful replies and rid when the request had none", () => {
    const reply = decode(encodeReply(okReply({ op: "put", index: 1 }, { ...context, leader: "tcp://x:1" })));
    assert.equal("leader" in reply, false);
    assert.equal("rid" in reply, false);
  });
});
