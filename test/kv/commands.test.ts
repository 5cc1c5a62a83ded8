/**
 * Proves that KV commands survive the log's encoding unchanged (raw values
 * stay byte-identical Uint8Arrays, copied out of the entry's buffer), and
 * that bytes which are not a valid command (only a forged entry holds such
 * bytes) are reported with a reason rather than thrown.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { decodeCommand, encodeCommand, type KvCommand } from "../../src/kv/commands.ts";
import { AssertionError } from "../../src/base/assert.ts";

const packr = new Packr({ useRecords: false });
const raw = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe("encodeCommand / decodeCommand", () => {
  const commands: KvCommand[] = [
    { op: "put", key: "k", value: raw(0xa2, 0xff, 0xfe) },
    { op: "put", key: "ключ", value: raw(0xc0), client: "c", seq: 1 },
    { op: "delete", key: "k" },
    { op: "delete", key: "k", client: "c".repeat(128), seq: Number.MAX_SAFE_INTEGER },
    { op: "cas", key: "k", expect: null, value: raw(0x01) },
    // A 1 MiB value: bin32 of 2^20 - 5 bytes.
    { op: "cas", key: "k".repeat(1024), expect: raw(0x90), value: Uint8Array.from(packr.pack(new Uint8Array((1 << 20) - 5))), client: "c", seq: 9 },
  ];
  for (const command of commands) {
    it(`round-trips ${command.op}${command.client === undefined ? "" : " with a session"}`, () => {
      const decoded = decodeCommand(encodeCommand(command));
      assert.ok(decoded.ok);
      assert.deepEqual(normalize(decoded.command), normalize(command));
    });
  }

  it("gives an entry's bytes a buffer of their own, not a view into msgpackr's shared one", () => {
    // A large message packed anywhere in the process grows the buffer msgpackr packs everything into;
    // a log entry viewing it would keep megabytes alive for its few bytes.
    packr.pack({ big: new Uint8Array(1 << 20) });
    const data = encodeCommand({ op: "put", key: "k", value: raw(0xc0), client: "c", seq: 1 });
    assert.equal(data.buffer.byteLength, data.byteLength);
  });

  it("copies values out of the entry's bytes", () => {
    const data = Uint8Array.from(encodeCommand({ op: "put", key: "k", value: raw(0x93, 1, 2, 3) }));
    const decoded = decodeCommand(data);
    data.fill(0);
    assert.ok(decoded.ok && decoded.command.op === "put");
    assert.deepEqual([...decoded.command.value], [0x93, 1, 2, 3]);
  });

  it("refuses to encode a command no request could have become (size limits are the protocol's: test/protocol)", () => {
    assert.throws(() => encodeCommand({ op: "delete", key: "" }), AssertionError);
    assert.throws(() => encodeCommand({ op: "delete", key: "k", client: "c", seq: 0 }), AssertionError);
    assert.throws(() => encodeCommand({ op: "delete", key: "k", client: "", seq: 1 }), AssertionError);
  });

  it("reports data that is not a command (a forged entry), never throws", () => {
    for (const data of [
      raw(0xc1),
      raw(),
      packr.pack([1, 2]),
      packr.pack({ op: "increment", key: "k" }),
      packr.pack({ op: "put", key: "k" }),
      packr.pack({ op: "put", key: "k", value: "not binary" }),
      packr.pack({ op: "cas", key: "k", value: new Uint8Array(1) }),
      packr.pack({ op: "delete", key: 5 }),
      packr.pack({ op: "delete", key: "k", client: "c" }),
      packr.pack({ op: "delete", key: "k", seq: 1 }),
      packr.pack({ op: "delete", key: "", client: "c", seq: 1 }),
      packr.pack({ op: "delete", key: "k", client: "c", seq: 0 }),
      packr.pack({ op: "cas", key: "k", expect: 5, value: new Uint8Array(1) }),
      packr.pack(new Uint8Array(3)),
      // Values that are not exactly one MessagePack value: only a forged entry holds them.
      packr.pack({ op: "put", key: "k", value: Uint8Array.of(0xc1) }),
      packr.pack({ op: "put", key: "k", value: Uint8Array.of(0x00, 0x00) }),
      packr.pack({ op: "cas", key: "k", expect: Uint8Array.of(0x92, 0x01), value: Uint8Array.of(0xc0) }),
      packr.pack({ op: "put", key: "k", value: new Uint8Array(200).fill(0x91) }),
    ]) {
      const decoded = decodeCommand(data);
      assert.equal(decoded.ok, false, `data ${Buffer.from(data).toString("hex")}`);
      assert.ok(!decoded.ok && decoded.reason.length > 0);
    }
  });
});

/** Plain arrays for binary fields, so that Buffer and Uint8Array compare alike. */
function normalize(command: KvCommand): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(command).map(([name, value]) => [name, value instanceof Uint8Array ? [...value] : value]),
  );
}
