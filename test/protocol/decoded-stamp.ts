import assert from "node:assert/strict";
import { decodePeerStamp, type PeerStamp } from "../../src/protocol/peer-stamp.ts";

/** The stamp in `frame`, failing the test when it is not one. */
export function decodedStamp(frame: Uint8Array): PeerStamp {
  const stamp = decodePeerStamp(frame);
  assert.ok(typeof stamp !== "string", String(stamp));
  return stamp;
}
