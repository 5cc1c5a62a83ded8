/**
 * Proves that a large value packed by the server (a catch-up AppendEntries, a
 * snapshot chunk, a command with a 1 MiB value) leaves msgpackr's shared
 * buffer small: msgpackr would otherwise size every later buffer at four
 * times that value, and the small messages that follow would fill each one.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { largePackedBytes, packOwned, packTransient } from "../../src/msgpack/packed-bytes.ts";
import { encodeCommand } from "../../src/kv/commands.ts";
import { encodeSnapshotChunks } from "../../src/kv/kv-snapshot.ts";
import { encodePeerMessage } from "../../src/protocol/peer-codec.ts";
import type { AppendEntries } from "../../src/raft/index.ts";

const packr = new Packr({ useRecords: false });
const mib = 1 << 20;

/** The size of the buffer the next small value is packed into, by any Packr of the process. */
function sharedBufferBytes(): number {
  return packr.pack({ small: 1 }).buffer.byteLength;
}

const appendEntries = (dataBytes: number): AppendEntries => ({
  type: "AppendEntries",
  term: 3,
  from: 1,
  to: 2,
  prevLogIndex: 0,
  prevLogTerm: 0,
  entries: [{ index: 1, term: 3, type: "command", data: new Uint8Array(dataBytes).fill(7) }],
  leaderCommit: 0,
  readRound: 0,
});

describe("packTransient / packOwned", () => {
  it("gives a large value bytes of their own and msgpackr a small buffer again", () => {
    for (const pack of [packTransient, packOwned]) {
      const big = pack(packr, { big: new Uint8Array(mib) });
      assert.equal(big.buffer.byteLength, big.byteLength);
      assert.equal((packr.unpack(big as Buffer) as { big: Uint8Array }).big.length, mib);
      assert.ok(sharedBufferBytes() < largePackedBytes, `${sharedBufferBytes()} bytes`);
    }
  });

  it("views the shared buffer for a small transient value and copies a small owned one", () => {
    const small = packTransient(packr, { a: 1 });
    assert.ok(small.buffer.byteLength > small.byteLength);
    const owned = packOwned(packr, { a: 1 });
    assert.equal(owned.buffer.byteLength, owned.byteLength);
  });
});

describe("the server's packers leave msgpackr's buffer small", () => {
  it("after an AppendEntries of 1 MiB", () => {
    const [, body] = encodePeerMessage(appendEntries(mib));
    assert.ok(body.length > mib);
    assert.ok(sharedBufferBytes() < largePackedBytes, `${sharedBufferBytes()} bytes`);
  });

  it("after a snapshot chunk of 1 MiB", () => {
    const [chunk] = encodeSnapshotChunks({ entries: [["k", new Uint8Array(mib)]], sessions: [], clockMs: 0 });
    assert.ok(chunk !== undefined && chunk.length > mib);
    assert.ok(sharedBufferBytes() < largePackedBytes, `${sharedBufferBytes()} bytes`);
  });

  it("after a command with a 1 MiB value", () => {
    const value = Uint8Array.from(packr.pack(new Uint8Array(mib - 5)));
    encodeCommand({ op: "put", key: "k", value });
    assert.ok(sharedBufferBytes() < largePackedBytes, `${sharedBufferBytes()} bytes`);
  });
});
