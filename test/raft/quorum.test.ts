/** Majorities and the commit candidate of §5.3: the highest index stored on a majority. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { majority, quorumMatchIndex } from "../../src/raft/quorum.ts";

test("majority of 1..6 voters", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(majority), [1, 2, 2, 3, 3, 4]);
});

test("quorumMatchIndex is the index a majority has reached", () => {
  assert.equal(quorumMatchIndex([5, 1, 3, 4, 2]), 3);
  assert.equal(quorumMatchIndex([9, 9, 0, 0, 0]), 0);
  assert.equal(quorumMatchIndex([7]), 7);
  assert.equal(quorumMatchIndex([4, 6, 6]), 6);
});
