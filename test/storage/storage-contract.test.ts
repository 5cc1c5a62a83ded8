/**
 * Proves that MemoryStorage and LmdbStorage keep the same RaftStorage
 * contract (src/storage/storage.ts): one table of write sequences runs
 * against both, and each must load back exactly the expected hard state and
 * log (Raft paper, Figure 2 "Persistent state on all servers"; a suffix that
 * conflicts with the leader is truncated before the append, §5.3), log start
 * and snapshot (dissertation ch. 5: snapshots taken of the state machine,
 * compaction, snapshots received from a leader). LmdbStorage is also closed
 * and reopened after each case and must read back the same. A write that
 * would break the log is rejected and changes nothing. The core's
 * synchronous reads (LogStorage) and a load of the tail only give back the
 * same log and snapshot, and refuse what compaction dropped.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { AssertionError } from "../../src/base/assert.ts";
import { emptyHardState, logStart } from "../../src/raft/index.ts";
import type { Entry, EntryType, HardState, LogIndex, LogPosition, LogStorage, ReceivedSnapshot, SnapshotMeta } from "../../src/raft/index.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { type WalLimits, WalStorage, walLimitsDefaults } from "../../src/storage/wal-storage.ts";
import type { RaftState, RaftStorage } from "../../src/storage/storage.ts";

function entry(index: number, term: number, data: readonly number[] = [index % 256], type: EntryType = "command"): Entry {
  return { index, term, type, data: new Uint8Array(data) };
}

function entries(first: number, last: number, term: number): Entry[] {
  const result: Entry[] = [];
  for (let index = first; index <= last; index += 1) result.push(entry(index, term));
  return result;
}

const allByteValues = Array.from({ length: 256 }, (_, i) => i);
const hardState = (currentTerm: number, votedFor: number | null, commitIndex: number): HardState => ({
  currentTerm,
  votedFor,
  commitIndex,
});

/** A snapshot of `count` chunks whose bytes tell them apart. */
function snapshot(index: number, term: number, count: number): ReceivedSnapshot {
  return { meta: { index, term }, chunks: Array.from({ length: count }, (_, n) => new Uint8Array([index, term, n, 0xff])) };
}

interface Refusable {
  /** When set, the write must reject with an AssertionError whose message matches, and change nothing. */
  readonly rejects?: RegExp;
}

interface SaveStep extends Refusable {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot?: ReceivedSnapshot;
}

interface SnapshotStep extends Refusable {
  readonly saveSnapshot: ReceivedSnapshot;
}

interface CompactStep extends Refusable {
  readonly compact: LogIndex;
}

type Step = SaveStep | SnapshotStep | CompactStep;

/** What a case leaves: the log start is logStart unless given; no snapshot is stored unless given. */
interface Expected {
  readonly hardState: HardState;
  readonly entries: readonly Entry[];
  readonly logStart?: LogPosition;
  readonly snapshot?: ReceivedSnapshot;
}

interface ContractCase {
  readonly name: string;
  readonly steps: readonly Step[];
  readonly expected: Expected;
}

function raftState(expected: Expected): RaftState {
  return {
    hardState: expected.hardState,
    entries: expected.entries,
    logStart: expected.logStart ?? logStart,
    snapshot: expected.snapshot?.meta ?? logStart,
  };
}

const cases: readonly ContractCase[] = [
  { name: "a fresh storage loads an empty state", steps: [], expected: { hardState: emptyHardState, entries: [] } },
  {
    name: "hard state alone",
    steps: [{ hardState: hardState(3, 2, 0), entries: [] }],
    expected: { hardState: hardState(3, 2, 0), entries: [] },
  },
  {
    name: "appends accumulate; a null hard state keeps the stored one",
    steps: [
      { hardState: hardState(1, 1, 0), entries: entries(1, 2, 1) },
      { hardState: null, entries: entries(3, 4, 1) },
      { hardState: hardState(1, 1, 4), entries: [] },
    ],
    expected: { hardState: hardState(1, 1, 4), entries: entries(1, 4, 1) },
  },
  {
    name: "binary data with every byte value, and a noop with empty data",
    steps: [{ hardState: hardState(2, null, 1), entries: [entry(1, 1, allByteValues), entry(2, 2, [], "noop")] }],
    expected: { hardState: hardState(2, null, 1), entries: [entry(1, 1, allByteValues), entry(2, 2, [], "noop")] },
  },
  {
    name: "a conflicting suffix is truncated, then the new entries appended (§5.3)",
    steps: [
      { hardState: hardState(1, 1, 2), entries: entries(1, 5, 1) },
      { hardState: hardState(2, null, 2), entries: entries(3, 4, 2) },
    ],
    expected: { hardState: hardState(2, null, 2), entries: [...entries(1, 2, 1), ...entries(3, 4, 2)] },
  },
  {
    name: "a truncation into the middle of an earlier save drops every later one",
    steps: [
      { hardState: hardState(1, 1, 0), entries: entries(1, 3, 1) },
      { hardState: null, entries: entries(4, 6, 1) },
      { hardState: null, entries: entries(7, 9, 1) },
      { hardState: hardState(2, null, 3), entries: entries(5, 5, 2) },
    ],
    expected: { hardState: hardState(2, null, 3), entries: [...entries(1, 4, 1), ...entries(5, 5, 2)] },
  },
  {
    name: "a save from index 1 replaces the whole log",
    steps: [
      { hardState: null, entries: entries(1, 3, 1) },
      { hardState: null, entries: [entry(1, 2, [9, 9])] },
    ],
    expected: { hardState: emptyHardState, entries: [entry(1, 2, [9, 9])] },
  },
  {
    name: "many entries in one save",
    steps: [{ hardState: hardState(7, 3, 5000), entries: entries(1, 5000, 7) }],
    expected: { hardState: hardState(7, 3, 5000), entries: entries(1, 5000, 7) },
  },
  {
    name: "a gap after the last index is rejected",
    steps: [
      { hardState: null, entries: entries(1, 2, 1) },
      { hardState: hardState(1, null, 0), entries: [entry(4, 1)], rejects: /contiguous/ },
    ],
    expected: { hardState: emptyHardState, entries: entries(1, 2, 1) },
  },
  {
    name: "entries not contiguous within one save are rejected",
    steps: [{ hardState: null, entries: [entry(1, 1), entry(3, 1)], rejects: /contiguous/ }],
    expected: { hardState: emptyHardState, entries: [] },
  },
  {
    name: "a term lower than the previous entry's is rejected",
    steps: [
      { hardState: null, entries: entries(1, 2, 3) },
      { hardState: null, entries: [entry(3, 2)], rejects: /below the term/ },
    ],
    expected: { hardState: emptyHardState, entries: entries(1, 2, 3) },
  },
  {
    name: "index 0 is rejected",
    steps: [{ hardState: null, entries: [entry(0, 1)], rejects: /invalid index/ }],
    expected: { hardState: emptyHardState, entries: [] },
  },
  {
    name: "a commitIndex beyond the log is rejected",
    steps: [
      { hardState: null, entries: entries(1, 2, 1) },
      { hardState: hardState(1, null, 3), entries: [], rejects: /beyond the last log index/ },
    ],
    expected: { hardState: emptyHardState, entries: entries(1, 2, 1) },
  },
  {
    name: "a truncation below the stored commitIndex leaves it beyond the log and is rejected",
    steps: [
      { hardState: hardState(1, null, 3), entries: entries(1, 3, 1) },
      { hardState: null, entries: [entry(2, 2)], rejects: /beyond the last log index/ },
    ],
    expected: { hardState: hardState(1, null, 3), entries: entries(1, 3, 1) },
  },
  {
    name: "an unknown entry type is rejected",
    steps: [{ hardState: null, entries: [{ ...entry(1, 1), type: "bogus" as EntryType }], rejects: /unknown type/ }],
    expected: { hardState: emptyHardState, entries: [] },
  },
  {
    name: "a negative votedFor is rejected",
    steps: [{ hardState: hardState(1, -1, 0), entries: [], rejects: /votedFor/ }],
    expected: { hardState: emptyHardState, entries: [] },
  },
  {
    name: "a snapshot taken at an entry reads back chunk by chunk; the log stays whole",
    steps: [
      { hardState: hardState(2, 1, 4), entries: [...entries(1, 3, 1), ...entries(4, 5, 2)] },
      { saveSnapshot: snapshot(4, 2, 3) },
    ],
    expected: { hardState: hardState(2, 1, 4), entries: [...entries(1, 3, 1), ...entries(4, 5, 2)], snapshot: snapshot(4, 2, 3) },
  },
  {
    name: "a newer snapshot replaces the stored one, chunks and all",
    steps: [
      { hardState: hardState(1, 1, 5), entries: entries(1, 5, 1) },
      { saveSnapshot: snapshot(2, 1, 4) },
      { saveSnapshot: snapshot(5, 1, 1) },
    ],
    expected: { hardState: hardState(1, 1, 5), entries: entries(1, 5, 1), snapshot: snapshot(5, 1, 1) },
  },
  {
    name: "compaction drops the entries up to the snapshot's index; the log starts after them",
    steps: [
      { hardState: hardState(2, 1, 3), entries: entries(1, 3, 1) },
      { hardState: hardState(2, 1, 4), entries: entries(4, 6, 2) },
      { saveSnapshot: snapshot(4, 2, 2) },
      { compact: 4 },
    ],
    expected: { hardState: hardState(2, 1, 4), entries: entries(5, 6, 2), logStart: { index: 4, term: 2 }, snapshot: snapshot(4, 2, 2) },
  },
  {
    name: "compaction inside a save's entries, then appends and again compaction",
    steps: [
      { hardState: hardState(1, 1, 6), entries: entries(1, 6, 1) },
      { saveSnapshot: snapshot(5, 1, 1) },
      { compact: 2 },
      { hardState: null, entries: entries(7, 8, 1) },
      { compact: 3 },
    ],
    expected: { hardState: hardState(1, 1, 6), entries: entries(4, 8, 1), logStart: { index: 3, term: 1 }, snapshot: snapshot(5, 1, 1) },
  },
  {
    name: "compaction through the last entry leaves the log empty after its start; appends follow it",
    steps: [
      { hardState: hardState(1, 1, 3), entries: entries(1, 3, 1) },
      { saveSnapshot: snapshot(3, 1, 2) },
      { compact: 3 },
      { hardState: hardState(2, 1, 3), entries: entries(4, 5, 2) },
    ],
    expected: { hardState: hardState(2, 1, 3), entries: entries(4, 5, 2), logStart: { index: 3, term: 1 }, snapshot: snapshot(3, 1, 2) },
  },
  {
    name: "a truncation right after the log start drops the rest of the log, and of the save it was in",
    steps: [
      { hardState: hardState(1, 1, 3), entries: entries(1, 6, 1) },
      { saveSnapshot: snapshot(3, 1, 1) },
      { compact: 3 },
      { hardState: hardState(2, null, 3), entries: [entry(4, 2)] },
    ],
    expected: { hardState: hardState(2, null, 3), entries: [entry(4, 2)], logStart: { index: 3, term: 1 }, snapshot: snapshot(3, 1, 1) },
  },
  {
    name: "a snapshot received from a leader replaces the log and the stored snapshot; appends continue after it",
    steps: [
      { hardState: hardState(1, 1, 2), entries: entries(1, 5, 1) },
      { saveSnapshot: snapshot(2, 1, 3) },
      { compact: 1 },
      { hardState: hardState(3, null, 10), entries: [], snapshot: snapshot(10, 3, 2) },
      { hardState: null, entries: entries(11, 12, 3) },
      { hardState: hardState(3, null, 12), entries: [] },
    ],
    expected: { hardState: hardState(3, null, 12), entries: entries(11, 12, 3), logStart: { index: 10, term: 3 }, snapshot: snapshot(10, 3, 2) },
  },
  {
    name: "a received snapshot with entries after it, in one save",
    steps: [
      { hardState: hardState(1, 1, 0), entries: entries(1, 9, 1) },
      { hardState: hardState(2, 2, 8), entries: entries(8, 9, 2), snapshot: snapshot(7, 2, 1) },
    ],
    expected: { hardState: hardState(2, 2, 8), entries: entries(8, 9, 2), logStart: { index: 7, term: 2 }, snapshot: snapshot(7, 2, 1) },
  },
  {
    name: "a snapshot not at a position of the log, or without chunks, is refused",
    steps: [
      { hardState: hardState(1, 1, 2), entries: entries(1, 3, 1) },
      { saveSnapshot: snapshot(2, 1, 2) },
      { compact: 2 },
      { saveSnapshot: snapshot(4, 1, 1), rejects: /not a position of the log \(2 to 3\)/ },
      { saveSnapshot: snapshot(3, 2, 1), rejects: /not a position of the log/ },
      { saveSnapshot: snapshot(1, 1, 1), rejects: /not a position of the log/ },
      { saveSnapshot: snapshot(3, 1, 0), rejects: /has no chunks/ },
      { hardState: null, entries: [], snapshot: snapshot(5, 1, 0), rejects: /has no chunks/ },
      { saveSnapshot: { meta: logStart, chunks: [new Uint8Array(1)] }, rejects: /invalid position/ },
    ],
    expected: { hardState: hardState(1, 1, 2), entries: [entry(3, 1)], logStart: { index: 2, term: 1 }, snapshot: snapshot(2, 1, 2) },
  },
  {
    name: "compaction beyond the snapshot or back before the log start is refused",
    steps: [
      { hardState: hardState(1, 1, 2), entries: entries(1, 4, 1) },
      { compact: 1, rejects: /outside the log start 0 to the snapshot's index 0/ },
      { saveSnapshot: snapshot(3, 1, 1) },
      { compact: 2 },
      { compact: 4, rejects: /outside the log start 2 to the snapshot's index 3/ },
      { compact: 1, rejects: /outside the log start 2/ },
    ],
    expected: { hardState: hardState(1, 1, 2), entries: entries(3, 4, 1), logStart: { index: 2, term: 1 }, snapshot: snapshot(3, 1, 1) },
  },
  {
    name: "a save into the compacted log, or not following a received snapshot, is refused",
    steps: [
      { hardState: hardState(1, 1, 3), entries: entries(1, 4, 1) },
      { saveSnapshot: snapshot(3, 1, 1) },
      { compact: 3 },
      { hardState: null, entries: [entry(3, 2)], rejects: /invalid index 3, at or below the log start 3/ },
      { hardState: null, entries: [entry(9, 2)], snapshot: snapshot(7, 2, 1), rejects: /contiguous/ },
      { hardState: hardState(2, null, 9), entries: [entry(8, 2)], snapshot: snapshot(7, 2, 1), rejects: /beyond the last log index 8/ },
    ],
    expected: { hardState: hardState(1, 1, 3), entries: [entry(4, 1)], logStart: { index: 3, term: 1 }, snapshot: snapshot(3, 1, 1) },
  },
];

/** How each implementation is opened for a case, and (when it has a disk) reopened. */
interface Implementation {
  readonly name: string;
  open(directory: string): Promise<RaftStorage & LogStorage>;
  readonly reopens: boolean;
}

const implementations: readonly Implementation[] = [
  { name: "MemoryStorage", open: async () => new MemoryStorage(), reopens: false },
  { name: "LmdbStorage", open: (directory) => LmdbStorage.open(directory, 1), reopens: true },
  // A leader's mode, the default: a save of one entry on the calling thread, larger ones on the pool.
  { name: "WalStorage", open: (directory) => WalStorage.open(directory, 1), reopens: true },
  { name: "WalStorage, every write on the pool", open: (directory) => WalStorage.open(directory, 1, { ...walLimitsDefaults, inlineWriteBytesMax: 0 }), reopens: true },
  // Small saves written on the calling thread, as a follower writes them; larger ones still on the pool.
  { name: "WalStorage, inline writes", open: (directory) => openInline(directory, walLimitsDefaults), reopens: true },
  // Every save past the first few starts the log file over, and every save is copied to LMDB in the background.
  { name: "WalStorage, a tiny log file", open: (directory) => WalStorage.open(directory, 1, { ...walLimitsDefaults, capacityBytes: 200, checkpointBytes: 1 }), reopens: true },
  {
    name: "WalStorage, a tiny log file, inline writes",
    open: (directory) => openInline(directory, { ...walLimitsDefaults, capacityBytes: 200, checkpointBytes: 1 }),
    reopens: true,
  },
  // Nothing is copied to LMDB before close(): the reopened storage finds it all in the log file.
  { name: "WalStorage, no checkpoints", open: (directory) => WalStorage.open(directory, 1, { ...walLimitsDefaults, capacityBytes: 1 << 20, checkpointBytes: Infinity }), reopens: true },
];

async function openInline(directory: string, limits: WalLimits): Promise<WalStorage> {
  const storage = await WalStorage.open(directory, 1, limits);
  storage.setWriteMode("inline");
  return storage;
}

/** The chunks handed over one at a time, as a state machine's snapshot produces them. */
function* oneByOne(chunks: readonly Uint8Array[]): Generator<Uint8Array> {
  yield* chunks;
}

function runStep(storage: RaftStorage, step: Step): Promise<void> {
  if ("compact" in step) return storage.compact(step.compact);
  if ("saveSnapshot" in step) return storage.saveSnapshot(step.saveSnapshot.meta, oneByOne(step.saveSnapshot.chunks));
  return storage.save(step.hardState, step.entries, step.snapshot);
}

async function runSteps(storage: RaftStorage, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    const written = runStep(storage, step);
    if (step.rejects === undefined) await written;
    else await assert.rejects(written, (error: unknown) => error instanceof AssertionError && step.rejects!.test(error.message));
  }
}

/** The core's reads (LogStorage) give back the same log as load(), and refuse what compaction dropped. */
function checkLogReads(storage: LogStorage, expected: RaftState): void {
  const start = expected.logStart;
  assert.equal(storage.term(start.index), start.term, "the log start's term");
  if (start.index > 0) {
    assert.throws(() => storage.term(start.index - 1), AssertionError);
    assert.throws(() => storage.entries(start.index, start.index + 1, Number.POSITIVE_INFINITY), AssertionError);
  }
  const last = expected.entries.at(-1)?.index;
  if (last === undefined) return;
  assert.deepStrictEqual(storage.entries(start.index + 1, last, Number.POSITIVE_INFINITY), expected.entries);
  assert.deepStrictEqual(
    expected.entries.map((entry) => storage.term(entry.index)),
    expected.entries.map((entry) => entry.term),
  );
}

/** The stored snapshot reads back whole and chunk by chunk (LogStorage), and not under any other position. */
function checkSnapshotReads(storage: RaftStorage & LogStorage, expected: ReceivedSnapshot | undefined): void {
  const stored = storage.readSnapshot();
  const others: SnapshotMeta[] = [logStart, { index: 1, term: 1 }];
  if (expected === undefined) {
    assert.equal(stored, null);
  } else {
    const { meta, chunks } = expected;
    assert.deepStrictEqual(stored?.meta, meta);
    assert.deepStrictEqual([...stored.chunks()], chunks);
    assert.deepStrictEqual(
      chunks.map((_, n) => storage.snapshotChunk(meta, n)),
      chunks.map((data, n) => ({ data, last: n === chunks.length - 1 })),
    );
    assert.equal(storage.snapshotChunk(meta, chunks.length), undefined, "no chunk after the last");
    others.push({ index: meta.index, term: meta.term + 1 }, { index: meta.index - 1, term: meta.term });
  }
  for (const other of others) assert.equal(storage.snapshotChunk(other, 0), undefined, `a stale snapshot ${JSON.stringify(other)}`);
}

/** Everything a storage must read back after a case, through each of its reads. */
async function checkStored(storage: RaftStorage & LogStorage, expected: Expected): Promise<void> {
  const state = raftState(expected);
  assert.deepStrictEqual(await storage.load(), state);
  checkLogReads(storage, state);
  checkSnapshotReads(storage, expected.snapshot);
  assert.deepStrictEqual((await storage.load(0)).entries, expected.entries.slice(-1), "the smallest tail is the last entry");
}

for (const implementation of implementations) {
  describe(`RaftStorage contract: ${implementation.name}`, () => {
    for (const contractCase of cases) {
      test(contractCase.name, async (t) => {
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "zraft-contract-"));
        t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
        const storage = await implementation.open(directory);
        try {
          await runSteps(storage, contractCase.steps);
          await checkStored(storage, contractCase.expected);
        } finally {
          await storage.close();
        }
        if (!implementation.reopens) return;
        const reopened = await implementation.open(directory);
        try {
          await checkStored(reopened, contractCase.expected);
        } finally {
          await reopened.close();
        }
      });
    }
  });
}
