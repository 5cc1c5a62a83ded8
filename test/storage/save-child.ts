/**
 * A child process for the durability tests (not a test itself): opens a data
 * directory, performs `saves` one-entry saves one after the other, and after
 * each one resolves writes the marker `SAVED <k>` to stdout with one direct
 * write syscall, so that a tracer or a killer sees exactly when "saved" was
 * reported.
 *
 *   node --import tsx test/storage/save-child.ts <mode> <dataDir> <saves>
 *
 * mode `storage` uses LmdbStorage (server id 1), mode `wal` WalStorage with a
 * log file small enough to start over every few hundred saves,
 * checkpoints every hundred or so and every write on libuv's pool; mode
 * `wal-inline` the same with its writes on the calling thread, as a
 * follower's. Modes `snapshot`, `compact` and `install`
 * make one write of that kind instead (`saves` must be 1), after the saves it
 * needs, which come before OPENED; with a `wal-` prefix, through WalStorage.
 * Mode `unsynced-lmdb`
 * writes with raw lmdb-js and `noSync: true`: it exists only so that the
 * syscall checker can be shown to catch a save that never reaches the disk.
 */
import { writeSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { open } from "lmdb";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import type { RaftStorage } from "../../src/storage/storage.ts";
import { WalStorage, walLimitsDefaults, type WalLimits } from "../../src/storage/wal-storage.ts";

/** A log file of 16 KiB, checkpointed every 4 KiB. */
export const childWalLimits = { ...walLimitsDefaults, capacityBytes: 16_384, checkpointBytes: 4096 };

function openStorage(wal: boolean, dataDir: string, walLimits: WalLimits = childWalLimits): Promise<RaftStorage> {
  return wal ? WalStorage.open(dataDir, 1, walLimits) : LmdbStorage.open(dataDir, 1);
}

/** The bytes saved as entry `k`, so that the parent can check what it reads back. */
export function childEntryData(k: number): Uint8Array {
  return new TextEncoder().encode(`entry-${k}`);
}

async function runStorage(wal: boolean, inline: boolean, dataDir: string, saves: number): Promise<void> {
  const storage = await openStorage(wal, dataDir, inline ? childWalLimits : { ...childWalLimits, inlineWriteBytesMax: 0 });
  storage.setWriteMode("inline");
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
    before: async (storage: RaftStorage) => storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 3 }, [1, 2, 3].map(childEntry)),
    write: (storage: RaftStorage) => storage.saveSnapshot({ index: 3, term: 1 }, childSnapshotChunks()),
  },
  compact: {
    before: async (storage: RaftStorage) => {
      await snapshotWrites.snapshot.before(storage);
      await snapshotWrites.snapshot.write(storage);
    },
    write: (storage: RaftStorage) => storage.compact(3),
  },
  install: {
    before: async () => {},
    write: (storage: RaftStorage) =>
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

async function runSnapshotWrite(wal: boolean, mode: SnapshotWriteMode, dataDir: string): Promise<void> {
  const storage = await openStorage(wal, dataDir);
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
    throw new Error("usage: save-child.ts <storage|wal|wal-inline|[wal-]snapshot|[wal-]compact|[wal-]install|unsynced-lmdb> <dataDir> <saves>");
  }
  const wal = mode?.startsWith("wal") === true;
  const write = mode?.replace(/^wal-/, "");
  if (mode === "storage" || mode === "wal" || mode === "wal-inline") await runStorage(wal, mode === "wal-inline", dataDir, saves);
  else if (write !== undefined && Object.hasOwn(snapshotWrites, write) && saves === 1) await runSnapshotWrite(wal, write as SnapshotWriteMode, dataDir);
  else if (mode === "unsynced-lmdb") await runUnsyncedLmdb(dataDir, saves);
  else throw new Error(`unknown mode ${String(mode)}`);
}

// Run only as a script: the tests import childEntryData from here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
