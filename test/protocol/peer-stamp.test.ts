/** The stamp frame of peer messages (src/protocol/peer-stamp.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodePeerStamp, PeerStamper, peerStampBytes, type PeerStamp } from "../../src/protocol/peer-stamp.ts";
import { decodedStamp as decoded } from "./decoded-stamp.ts";

test("a stamper numbers its messages from 1 under one run; another stamper has another run", () => {
  const stamper = new PeerStamper(7);
  const stamps = [stamper.next(), stamper.next(), stamper.next()].map(decoded);
  assert.deepEqual(
    stamps.map(({ from, seq }) => ({ from, seq })),
    [1, 2, 3].map((seq) => ({ from: 7, seq })),
  );
  const run = ({ runHigh, runLow }: PeerStamp): string => `${runHigh}:${runLow}`;
  assert.ok(stamps.every((stamp) => run(stamp) === run(stamps[0]!)));
  assert.notEqual(run(decoded(new PeerStamper(7).next())), run(stamps[0]!));
});

test("sequence numbers past 2^32 survive the round trip", () => {
  const frame = new PeerStamper(1).next();
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  view.setUint32(12, 5);
  view.setUint32(16, 6);
  assert.equal(decoded(frame).seq, 5 * 2 ** 32 + 6);
});

test("frames that are not stamps are refused with a reason", () => {
  const good = new PeerStamper(3).next();
  const withWord = (offset: number, value: number): Uint8Array => {
    const frame = new Uint8Array(good);
    new DataView(frame.buffer, frame.byteOffset, frame.length).setUint32(offset, value);
    return frame;
  };
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /stamp is 0 bytes, not 20/],
    [new Uint8Array(peerStampBytes + 1), /stamp is 21 bytes/],
    [withWord(0, 0), /names server 0/],
    [withWord(16, 0), /sequence number is 0/],
    [withWord(12, 2 ** 21), /beyond 2\^53/],
  ];
  for (const [frame, reason] of cases) {
    const result = decodePeerStamp(frame);
    assert.equal(typeof result, "string");
    assert.match(result as string, reason);
  }
  // A view into a larger buffer reads at its own offset.
  const padded = new Uint8Array(peerStampBytes + 3);
  padded.set(good, 3);
  assert.deepEqual(decodePeerStamp(padded.subarray(3)), decodePeerStamp(good));
});
