/** The filter that keeps each peer message's first copy (src/transport/first-copy-filter.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PeerStamper, type PeerStamp } from "../../src/protocol/peer-stamp.ts";
import { FirstCopyFilter } from "../../src/transport/first-copy-filter.ts";
import { decodedStamp as decoded } from "../protocol/decoded-stamp.ts";

test("the filter passes each message's first copy only; a sender's new run starts over", () => {
  const filter = new FirstCopyFilter();
  const first = new PeerStamper(2);
  const [one, two, three] = [first.next(), first.next(), first.next()].map(decoded) as [PeerStamp, PeerStamp, PeerStamp];
  const pass = (stamp: PeerStamp): boolean => {
    if (filter.isLaterCopy(stamp)) return false;
    filter.record(stamp);
    return true;
  };
  assert.deepEqual([one, one, two, one, three, two, three].map(pass), [true, false, true, false, true, false, false]);
  // Another sender's numbers are its own.
  assert.equal(pass(decoded(new PeerStamper(3).next())), true);
  // Server 2 restarted: its numbers begin again at 1 under a new run.
  const restarted = new PeerStamper(2);
  assert.deepEqual([restarted.next(), restarted.next()].map(decoded).map(pass), [true, true]);
  // Skipped numbers (messages lost on every forwarder) do not hold up later ones.
  restarted.next();
  assert.equal(pass(decoded(restarted.next())), true);
});

test("an unrecorded stamp (its message was refused) does not make later messages look like copies", () => {
  const filter = new FirstCopyFilter();
  const stamper = new PeerStamper(4);
  const refused = decoded(stamper.next());
  assert.equal(filter.isLaterCopy(refused), false);
  const next = decoded(stamper.next());
  assert.equal(filter.isLaterCopy(next), false);
  filter.record(next);
  assert.equal(filter.isLaterCopy(refused), true, "an earlier message arriving late after a later one is dropped");
});
