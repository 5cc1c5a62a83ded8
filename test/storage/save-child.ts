/**
 * A child process for the durability tests (not a test itself): opens a data
 * directory, performs `saves` one-entry saves one after the other, and after
 * each one resolves writes the marker `SAVED <k>` to stdout with one direct
 * write syscall, so that a tracer or a killer sees exactly when "saved" was
 * reported.
 *
 *   node --import tsx test/storage/save-child.ts <mode> <dataDir> <saves>
 *
 * mode `storage` uses LmdbStorage (server id 1). Modes `snapshot`, `compact`
 * and `install` make one write of that kind instead (`saves` must be 1),
 * after the saves it needs, which come before OPENED. Mode `unsynced-lmdb`
 * writes with raw lmdb-js and `noSync: true`: it exists only so that the
 * syscall checker can be shown to catch a save that never reaches the disk.
 */
import { writeSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { open } from "lmdb";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";

/** The bytes saved as entry `k`, so that the parent can check what it reads back. */
export function childEntryData(k: number): Uint8Array {
  return new TextEncoder().encode(`entry-${k}`);
}

async function runStorage(dataDir: string, saves: number): Promise<void> {
  const storage = await LmdbStorage.open(dataDir, 1);
  writeSync(1, "OPENED\n");
  for (let k = 1; k <= saves; k += 1) {
    await storage.save({ currentTerm: k, votedFor: 1, commitIndex: k - 1 }, [
      { index: k, term: k, type: "command", data: childEntryData(k) },
    ]);
    writeSync(1, `SAVED ${k}\n`);
  }
  await storage.close();
}

/** The writes of dissertation ch. 5, each the one write between the markers, after what it needs. */
const snapshotWrites = {
  snapshot: {
    before: async (storage: LmdbStorage) => storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 3 }, [1, 2, 3].map(childEntry)),
    write: (storage: LmdbStorage) => storage.saveSnapshot({ index: 3, term: 1 }, childSnapshotChunks()),
  },
  compact: {
    before: async (storage: LmdbStorage) => {
      await snapshotWrites.snapshot.before(storage);
      await snapshotWrites.snapshot.write(storage);
    },
    write: (storage: LmdbStorage) => storage.compact(3),
  },
  install: {
    before: async () => {},
    write: (storage: LmdbStorage) =>
      storage.save({ currentTerm: 2, votedFor: null, commitIndex: 5 }, [], { meta: { index: 5, term: 2 }, chunks: [...childSnapshotChunks()] }),
  },
} as const;

type SnapshotWriteMode = keyof typeof snapshotWrites;

function childEntry(k: number) {
  return { index: k, term: 1, type: "command" as const, data: childEntryData(k) };
}

/** Two chunks, one past a page, one within it. */
function* childSnapshotChunks(): Generator<Uint8Array> {
  yield new Uint8Array(10_000).fill(7);
  yield new Uint8Array(100).fill(8);
}

async function runSnapshotWrite(mode: SnapshotWriteMode, dataDir: string): Promise<void> {
  const storage = await LmdbStorage.open(dataDir, 1);
  await snapshotWrites[mode].before(storage);
  writeSync(1, "OPENED\n");
  await snapshotWrites[mode].write(storage);
  writeSync(1, "SAVED 1\n");
  await storage.close();
}

async function runUnsyncedLmdb(dataDir: string, saves: number): Promise<void> {
  const db = open<Uint8Array, number>({ path: path.join(dataDir, "server-1"), encoding: "binary", noSync: true });
  writeSync(1, "OPENED\n");
  for (let k = 1; k <= saves; k += 1) {
    await db.put(k, childEntryData(k));
    writeSync(1, `SAVED ${k}\n`);
  }
  await db.close();
}

async function main(args: readonly string[]): Promise<void> {
  const [mode, dataDir, savesText] = args;
  const saves = Number(savesText);
  if (dataDir === undefined || !Number.isSafeInteger(saves) || saves < 1) {
    throw new Error("usage: save-child.ts <storage|snapshot|compact|install|unsynced-lmdb> <dataDir> <saves>");
  }
  if (mode === "storage") await runStorage(dataDir, saves);
  else if (mode !== undefined && Object.hasOwn(snapshotWrites, mode) && saves === 1) await runSnapshotWrite(mode as SnapshotWriteMode, dataDir);
  else if (mode === "unsynced-lmdb") await runUnsyncedLmdb(dataDir, saves);
  else throw new Error(`unknown mode ${String(mode)}`);
}

// Run only as a script: the tests import childEntryData from here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
