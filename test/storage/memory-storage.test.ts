/**
 * Proves what the deterministic simulator relies on in MemoryStorage beyond
 * the contract shared with LmdbStorage (storage-contract.test.ts): the
 * synchronous loadSync/saveSync see the same state as the async methods, a
 * refused saveSync throws at once and changes nothing, and no array is shared
 * with the caller, so a "crashed" node's in-memory log cannot alias what is
 * "on disk".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../../src/base/assert.ts";
import type { Entry } from "../../src/raft/index.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";

function entry(index: number, term: number): Entry {
  return { index, term, type: "command", data: new Uint8Array([index]) };
}

test("saveSync and loadSync agree with save and load", async () => {
  const storage = new MemoryStorage();
  storage.saveSync({ currentTerm: 1, votedFor: 2, commitIndex: 1 }, [entry(1, 1), entry(2, 1)]);
  await storage.save(null, [entry(2, 2)]);
  const expected = { hardState: { currentTerm: 1, votedFor: 2, commitIndex: 1 }, entries: [entry(1, 1), entry(2, 2)] };
  assert.deepEqual(storage.loadSync(), expected);
  assert.deepEqual(await storage.load(), expected);
});

test("a refused saveSync throws synchronously and changes nothing", () => {
  const storage = new MemoryStorage();
  storage.saveSync({ currentTerm: 1, votedFor: null, commitIndex: 0 }, [entry(1, 1)]);
  const before = storage.loadSync();
  assert.throws(() => storage.saveSync({ currentTerm: 5, votedFor: 1, commitIndex: 0 }, [entry(3, 1)]), AssertionError);
  assert.deepEqual(storage.loadSync(), before);
});

test("arrays and hard states are never shared with the caller", () => {
  const storage = new MemoryStorage();
  const given = [entry(1, 1), entry(2, 1)];
  const hardState = { currentTerm: 1, votedFor: 1, commitIndex: 0 };
  storage.saveSync(hardState, given);
  given.push(entry(3, 1));
  given.length = 0;
  hardState.currentTerm = 99;

  const loaded = storage.loadSync();
  (loaded.entries as Entry[]).pop();
  (loaded.hardState as { currentTerm: number }).currentTerm = 42;

  assert.deepEqual(storage.loadSync(), {
    hardState: { currentTerm: 1, votedFor: 1, commitIndex: 0 },
    entries: [entry(1, 1), entry(2, 1)],
  });
});
