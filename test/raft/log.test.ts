/**
 * RaftLog: the follower's append rules of §5.3 (skip what matches, truncate
 * at the first conflict, never truncate on a stale duplicate), the repair
 * hint, the up-to-date rule of §5.4.1, and the durable/applied marks.
 */
import { AssertionError } from "../../src/base/assert.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { RaftLog } from "../../src/raft/log.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { type Entry, raftConfigDefaults } from "../../src/raft/index.ts";

const entry = (index: number, term: number): Entry => ({ index, term, type: "command", data: new Uint8Array([index]) });
/** A log held whole in memory, as a node without storage keeps it. */
const inMemory = (entries: readonly Entry[], commitIndex: number): RaftLog => new RaftLog(entries, commitIndex, null, raftConfigDefaults.logTailBytesMax);
const logOf = (...terms: number[]): RaftLog => inMemory(terms.map((term, i) => entry(i + 1, term)), 0);
const termsOf = (log: RaftLog): number[] => log.all().map((e) => e.term);

test("appendAfter skips matching entries and appends the rest", () => {
  const log = logOf(1, 1, 2);
  assert.deepEqual(log.appendAfter(1, [entry(2, 1), entry(3, 2), entry(4, 2)]), { matchIndex: 4, firstNew: 4 });
  assert.deepEqual(termsOf(log), [1, 1, 2, 2]);
  assert.equal(log.stableIndex, 3, "the matching prefix stays durable");
});

test("appendAfter truncates at the first conflict (§5.3)", () => {
  const log = logOf(1, 1, 2, 2);
  log.appendAfter(2, [entry(3, 3)]);
  assert.deepEqual(termsOf(log), [1, 1, 3]);
  assert.equal(log.stableIndex, 2);
  assert.deepEqual(log.unstableEntries().map((e) => e.index), [3]);
});

test("a stale duplicate AppendEntries never shortens the log", () => {
  const log = logOf(1, 1, 1, 1);
  assert.equal(log.appendAfter(1, [entry(2, 1)]).matchIndex, 2);
  assert.equal(log.lastIndex(), 4);
});

test("truncating a committed entry is a bug and throws", () => {
  const log = inMemory([entry(1, 1), entry(2, 1)], 2);
  assert.throws(() => log.appendAfter(1, [entry(2, 2)]), AssertionError);
});

test("conflictHint names the follower's term and its first index, or its length", () => {
  const log = logOf(1, 2, 2, 2);
  assert.deepEqual(log.conflictHint(4), { conflictTerm: 2, conflictIndex: 2 });
  assert.deepEqual(log.conflictHint(9), { conflictTerm: 0, conflictIndex: 5 });
});

test("lastIndexOfTerm finds the leader's last entry of a term", () => {
  const log = logOf(1, 1, 3, 3, 5);
  assert.equal(log.lastIndexOfTerm(3), 4);
  assert.equal(log.lastIndexOfTerm(2), 0);
  assert.equal(log.lastIndexOfTerm(5), 5);
});

test("isUpToDate compares last terms first, then lengths (§5.4.1)", () => {
  const log = logOf(1, 2, 2);
  assert.equal(log.isUpToDate(1, 3), true, "higher last term wins though shorter");
  assert.equal(log.isUpToDate(3, 2), true, "same term, same length");
  assert.equal(log.isUpToDate(2, 2), false, "same term, shorter");
  assert.equal(log.isUpToDate(9, 1), false, "lower last term loses though longer");
});

test("stableTo ignores a write the log has since replaced", () => {
  const log = logOf(1);
  log.append(entry(2, 1));
  const written = log.unstableEntries().at(-1)!;
  log.appendAfter(1, [entry(2, 2)]);
  log.stableTo(written);
  assert.equal(log.stableIndex, 1, "index 2 now holds a different entry");
});

test("slice honours the count and byte bounds but always returns one entry", () => {
  const big: Entry[] = [1, 2, 3].map((i) => ({ index: i, term: 1, type: "command", data: new Uint8Array(1000) }));
  const log = inMemory(big, 0);
  assert.equal(log.slice(1, 10, 10).length, 1);
  assert.equal(log.slice(1, 2, 1_000_000).length, 2);
  assert.equal(log.slice(1, 10, 2100).length, 2);
});

/** A log of `count` entries, ten per term, saved in a MemoryStorage; the RaftLog holds the tail that fits in `tailBytesMax`. */
function storedLog(count: number, commitIndex: number, tailBytesMax: number): { log: RaftLog; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  storage.saveSync({ currentTerm: 99, votedFor: null, commitIndex }, Array.from({ length: count }, (_, i) => entry(i + 1, Math.ceil((i + 1) / 10))));
  const { entries } = storage.loadSync(tailBytesMax);
  return { log: new RaftLog(entries, commitIndex, storage, tailBytesMax), storage };
}

// entryBytes of these one-byte entries is 25: a 100-byte tail holds four.
test("below the tail, terms, slices and committed entries are read from storage; a batch ends where memory begins", () => {
  const { log } = storedLog(100, 60, 100);
  assert.equal(log.lastIndex(), 100);
  assert.equal(log.term(1), 1);
  assert.equal(log.term(55), 6);
  assert.equal(log.lastIndexOfTerm(3), 30, "a binary search over terms reaches storage");
  assert.equal(log.lastIndexOfTerm(11), 0);
  assert.deepEqual(log.slice(20, 5, Number.POSITIVE_INFINITY).map((e) => e.index), [20, 21, 22, 23, 24]);
  assert.deepEqual(log.slice(95, 10, Number.POSITIVE_INFINITY).map((e) => e.index), [95, 96], "the storage part ends before the tail");
  assert.deepEqual(log.slice(97, 10, Number.POSITIVE_INFINITY).map((e) => e.index), [97, 98, 99, 100]);
  assert.deepEqual(log.nextCommitted(1000).map((e) => e.index), [1, 2, 3, 4], "a replay reads about one tail's bytes at a time");
  log.appliedTo(56);
  assert.deepEqual(log.nextCommitted(1000).map((e) => e.index), [57, 58, 59, 60], "up to the commit index");
  assert.deepEqual(log.all().map((e) => e.index), Array.from({ length: 100 }, (_, i) => i + 1));
});

test("entries leave memory only once durable and applied, and the tail stays within its bound", () => {
  const { log, storage } = storedLog(3, 3, 100);
  for (let index = 4; index <= 50; index++) log.append(entry(index, 5));
  log.commitTo(50);
  log.appliedTo(50);
  assert.equal(log.slice(4, 100, Number.POSITIVE_INFINITY).length, 47, "not yet durable: all in memory (storage lacks them)");
  storage.saveSync(null, log.unstableEntries());
  log.stableTo(entry(50, 5));
  assert.deepEqual(log.slice(47, 10, Number.POSITIVE_INFINITY).map((e) => e.index), [47], "entry 47 left memory");
  assert.deepEqual(log.slice(48, 10, Number.POSITIVE_INFINITY).map((e) => e.index), [48, 49, 50], "released down to three quarters of the bound: three entries stay");
  const saveOne = (index: number): void => {
    log.append(entry(index, 5));
    storage.saveSync(null, log.unstableEntries());
    log.stableTo(entry(index, 5));
    log.commitTo(index);
    log.appliedTo(index);
  };
  saveOne(51);
  assert.deepEqual(log.slice(48, 10, Number.POSITIVE_INFINITY).map((e) => e.index), [48, 49, 50, 51], "at the bound, nothing leaves");
  saveOne(52);
  assert.deepEqual(log.slice(49, 10, Number.POSITIVE_INFINITY).map((e) => e.index), [49], "past it, down to three quarters again");
  assert.deepEqual(log.slice(50, 10, Number.POSITIVE_INFINITY).map((e) => e.index), [50, 51, 52]);
  assert.deepEqual(log.all(), storage.loadSync().entries);
});

test("a tail loaded above the commit index can be cut below its start by a new leader (§5.3)", () => {
  const { log, storage } = storedLog(10, 2, 30);
  assert.equal(log.appendAfter(4, [entry(5, 2)]).matchIndex, 5);
  assert.equal(log.lastIndex(), 5);
  assert.equal(log.term(4), 1, "read from storage");
  assert.deepEqual(log.unstableEntries(), [entry(5, 2)]);
  storage.saveSync(null, log.unstableEntries());
  log.stableTo(entry(5, 2));
  assert.deepEqual(log.all(), storage.loadSync().entries);
});
