/**
 * Proves what the deterministic simulator relies on in MemoryStorage beyond
 * the contract shared with LmdbStorage (storage-contract.test.ts): the
 * synchronous loadSync/saveSync/saveSnapshotSync/compactSync see the same
 * state as the async methods, a refused one throws at once and changes
 * nothing, and no array or chunk is shared with the caller, so a "crashed"
 * node's in-memory state cannot alias what is "on disk".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../../src/base/assert.ts";
import { logStart } from "../../src/raft/index.ts";
import type { Entry } from "../../src/raft/index.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";

function entry(index: number, term: number): Entry {
  return { index, term, type: "command", data: new Uint8Array([index]) };
}

test("saveSync and loadSync agree with save and load", async () => {
  const storage = new MemoryStorage();
  storage.saveSync({ currentTerm: 1, votedFor: 2, commitIndex: 1 }, [entry(1, 1), entry(2, 1)]);
  await storage.save(null, [entry(2, 2)]);
  const expected = { hardState: { currentTerm: 1, votedFor: 2, commitIndex: 1 }, entries: [entry(1, 1), entry(2, 2)], logStart, snapshot: logStart };
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
    logStart,
    snapshot: logStart,
  });
});

test("saveSnapshotSync and compactSync agree with saveSnapshot and compact", async () => {
  const storage = new MemoryStorage();
  storage.saveSync({ currentTerm: 1, votedFor: 2, commitIndex: 3 }, [entry(1, 1), entry(2, 1), entry(3, 1)]);
  storage.saveSnapshotSync({ index: 2, term: 1 }, [new Uint8Array([7])]);
  storage.compactSync(1);
  await storage.saveSnapshot({ index: 3, term: 1 }, [new Uint8Array([8])]);
  await storage.compact(2);
  assert.deepEqual(storage.loadSync(), {
    hardState: { currentTerm: 1, votedFor: 2, commitIndex: 3 },
    entries: [entry(3, 1)],
    logStart: { index: 2, term: 1 },
    snapshot: { index: 3, term: 1 },
  });
  assert.deepEqual(storage.loadSync(), await storage.load());
});

test("refused saveSnapshotSync and compactSync throw synchronously and change nothing", () => {
  const storage = new MemoryStorage();
  storage.saveSync({ currentTerm: 1, votedFor: null, commitIndex: 2 }, [entry(1, 1), entry(2, 1)]);
  storage.saveSnapshotSync({ index: 1, term: 1 }, [new Uint8Array([1])]);
  const before = storage.loadSync();
  assert.throws(() => storage.saveSnapshotSync({ index: 2, term: 2 }, [new Uint8Array([2])]), AssertionError);
  assert.throws(() => storage.compactSync(2), AssertionError);
  assert.deepEqual(storage.loadSync(), before);
  assert.deepEqual([...storage.readSnapshot()!.chunks()], [new Uint8Array([1])]);
});

test("snapshot chunks are copied in and out", () => {
  const storage = new MemoryStorage();
  storage.saveSync({ currentTerm: 1, votedFor: null, commitIndex: 1 }, [entry(1, 1)]);
  const given = new Uint8Array([1, 2]);
  storage.saveSnapshotSync({ index: 1, term: 1 }, [given]);
  given[0] = 9;
  const [read] = storage.readSnapshot()!.chunks();
  read![1] = 9;
  storage.snapshotChunk({ index: 1, term: 1 }, 0)!.data[0] = 9;
  assert.deepEqual(storage.snapshotChunk({ index: 1, term: 1 }, 0), { data: new Uint8Array([1, 2]), last: true });
});
