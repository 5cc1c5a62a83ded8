/**
 * Proves that MemoryStorage and LmdbStorage keep the same RaftStorage
 * contract (src/storage/storage.ts): one table of save sequences runs against
 * both, and each must load back exactly the expected hard state and log
 * (Raft paper, Figure 2 "Persistent state on all servers"; a suffix that
 * conflicts with the leader is truncated before the append, §5.3). LmdbStorage
 * is also closed and reopened after each case and must read back the same.
 * A save that would break the log is rejected and changes nothing. The
 * core's synchronous reads (LogStorage) and a load of the tail only give
 * back the same log.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { AssertionError } from "../../src/base/assert.ts";
import { emptyHardState } from "../../src/raft/index.ts";
import type { Entry, EntryType, HardState, LogStorage } from "../../src/raft/index.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
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

interface SaveStep {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  /** When set, the save must reject with an AssertionError whose message matches, and change nothing. */
  readonly rejects?: RegExp;
}

interface ContractCase {
  readonly name: string;
  readonly steps: readonly SaveStep[];
  readonly expected: RaftState;
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
];

async function runSteps(storage: RaftStorage, steps: readonly SaveStep[]): Promise<void> {
  for (const step of steps) {
    const saved = storage.save(step.hardState, step.entries);
    if (step.rejects === undefined) await saved;
    else await assert.rejects(saved, (error: unknown) => error instanceof AssertionError && step.rejects!.test(error.message));
  }
}

/** The core's reads (LogStorage) give back the same log as load(). */
function checkLogReads(storage: LogStorage, expected: RaftState): void {
  const last = expected.entries.length;
  if (last === 0) return;
  assert.deepStrictEqual(storage.entries(1, last, Number.POSITIVE_INFINITY), expected.entries);
  assert.deepStrictEqual(
    expected.entries.map((entry) => storage.term(entry.index)),
    expected.entries.map((entry) => entry.term),
  );
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
          assert.deepStrictEqual(await storage.load(), contractCase.expected);
          checkLogReads(storage, contractCase.expected);
          assert.deepStrictEqual((await storage.load(0)).entries, contractCase.expected.entries.slice(-1), "the smallest tail is the last entry");
        } finally {
          await storage.close();
        }
        if (!implementation.reopens) return;
        const reopened = await implementation.open(directory);
        try {
          assert.deepStrictEqual(await reopened.load(), contractCase.expected);
        } finally {
          await reopened.close();
        }
      });
    }
  });
}
