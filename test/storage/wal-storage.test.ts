/**
 * WalStorage's write-ahead log after a crash, from images of a data
 * directory taken while the storage was open (what a machine that lost
 * power leaves): saves only in the log file are replayed into LMDB; a record
 * torn by the crash ends the log; records of an earlier generation left
 * further on in the file are never replayed; a log file that is not one, a
 * record that reads wrong despite its checksum, or records that do not
 * continue LMDB's log are refused. The RaftStorage contract and the model
 * runs cover the rest (storage-contract.test.ts, lmdb-model.test.ts).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import fsFunctions from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { test, type TestContext } from "node:test";
import type { Entry } from "../../src/raft/index.ts";
import { StorageError } from "../../src/storage/storage-error.ts";
import { encodeWalPayload, walHeaderBytes, walRecordHeader, decodeWalHeader } from "../../src/storage/wal-records.ts";
import { WalFile } from "../../src/storage/wal-file.ts";
import { WalStorage, walFileName, walLimitsDefaults, type WalLimits } from "../../src/storage/wal-storage.ts";

/** Nothing reaches LMDB before close(): an image holds the saves in the log file only. */
const logOnly = { ...walLimitsDefaults, capacityBytes: 1 << 16, checkpointBytes: Number.POSITIVE_INFINITY };

function entry(index: number, term: number): Entry {
  return { index, term, type: "command", data: new Uint8Array(16).fill(index) };
}

function temporaryDirectory(t: { after(fn: () => void): void }): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "zraft-wal-"));
  t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Copies the data file and the log file of an open storage: LMDB's last commit and the log as written. */
function crashImage(t: { after(fn: () => void): void }, dataDir: string): string {
  const image = temporaryDirectory(t);
  fs.mkdirSync(path.join(image, "server-1"));
  for (const file of ["data.mdb", walFileName]) fs.copyFileSync(path.join(dataDir, "server-1", file), path.join(image, "server-1", file));
  return image;
}

/** A storage of `saves` one-entry saves, left open, and the image of its directory. */
async function imageAfter(t: { after(fn: () => void): void }, saves: number): Promise<string> {
  const dataDir = temporaryDirectory(t);
  const storage = await WalStorage.open(dataDir, 1, logOnly);
  for (let index = 1; index <= saves; index++) await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: index - 1 }, [entry(index, 1)]);
  const image = crashImage(t, dataDir);
  await storage.close();
  return image;
}

async function loadLog(dataDir: string): Promise<{ readonly indexes: number[]; readonly commitIndex: number }> {
  const storage = await WalStorage.open(dataDir, 1, logOnly);
  try {
    const { entries, hardState } = await storage.load();
    return { indexes: entries.map((stored) => stored.index), commitIndex: hardState.commitIndex };
  } finally {
    await storage.close();
  }
}

function walPath(dataDir: string): string {
  return path.join(dataDir, "server-1", walFileName);
}

/** Where each record starts, and where the last ends, going by their lengths alone (checksums unchecked). */
function recordOffsets(dataDir: string): number[] {
  const bytes = fs.readFileSync(walPath(dataDir));
  const offsets = [walHeaderBytes];
  for (let length = bytes.readUInt32BE(offsets.at(-1)!); length > 0; length = bytes.readUInt32BE(offsets.at(-1)!)) {
    offsets.push(offsets.at(-1)! + 8 + length);
  }
  return offsets;
}

async function assertRefused(dataDir: string, problem: RegExp): Promise<void> {
  await assert.rejects(WalStorage.open(dataDir, 1, logOnly), (error: unknown) => error instanceof StorageError && problem.test(error.message));
}

test("the saves only in the log file when the machine stopped are all there after a restart", async (t) => {
  const image = await imageAfter(t, 5);
  assert.deepEqual(await loadLog(image), { indexes: [1, 2, 3, 4, 5], commitIndex: 4 });
  // The replay went to LMDB, and the log file started over: a second restart finds the same.
  assert.deepEqual(await loadLog(image), { indexes: [1, 2, 3, 4, 5], commitIndex: 4 });
});

test("a record torn by the crash ends the log: the saves before it are kept", async (t) => {
  const image = await imageAfter(t, 5);
  const offsets = recordOffsets(image);
  const fd = fs.openSync(walPath(image), "r+");
  // The last record's final byte never reached the disk.
  fs.writeSync(fd, new Uint8Array(1), 0, 1, offsets[5]! - 1);
  fs.closeSync(fd);
  assert.deepEqual(await loadLog(image), { indexes: [1, 2, 3, 4], commitIndex: 3 });
});

test("records of an earlier generation, further on in the file, are never replayed", async (t) => {
  const dataDir = temporaryDirectory(t);
  const storage = await WalStorage.open(dataDir, 1, logOnly);
  t.after(() => storage.close());
  for (const index of [1, 2, 3]) await storage.save(null, [entry(index, 1)]);
  // A truncation runs on LMDB and starts a new generation; the next append takes the first record's place.
  await storage.save({ currentTerm: 2, votedFor: null, commitIndex: 0 }, [entry(3, 2)]);
  await storage.save(null, [entry(4, 2)]);
  const image = crashImage(t, dataDir);
  // The records of entries 2 and 3 of term 1 still follow the new one in the file, whole: three records end to end.
  assert.equal(recordOffsets(image).length, 4);
  assert.deepEqual(await loadLog(image), { indexes: [1, 2, 3, 4], commitIndex: 0 });
  const reopened = await WalStorage.open(image, 1, logOnly);
  t.after(() => reopened.close());
  assert.deepEqual((await reopened.load()).entries.map((stored) => stored.term), [1, 1, 2, 2]);
});

test("refuses a log file that does not start with its header", async (t) => {
  const image = await imageAfter(t, 2);
  const fd = fs.openSync(walPath(image), "r+");
  fs.writeSync(fd, new Uint8Array([0x41]), 0, 1, 3);
  fs.closeSync(fd);
  await assertRefused(image, /wal\.log: does not start with a write-ahead log header/);
});

/** Writes a record of the file's generation, checksum and all, at `offset`. */
function forgeRecord(dataDir: string, offset: number, payload: Uint8Array): void {
  const bytes = fs.readFileSync(walPath(dataDir));
  const salt = decodeWalHeader(bytes);
  assert.ok(typeof salt !== "string");
  const fd = fs.openSync(walPath(dataDir), "r+");
  fs.writeSync(fd, walRecordHeader(salt, payload), 0, 8, offset);
  fs.writeSync(fd, payload, 0, payload.length, offset + 8);
  fs.closeSync(fd);
}

test("refuses a record whose checksum matches but which does not read", async (t) => {
  const image = await imageAfter(t, 2);
  forgeRecord(image, recordOffsets(image).at(-1)!, new Uint8Array([7]));
  await assertRefused(image, /record at offset \d+: has an unknown hard state flag 7/);
});

test("refuses records that do not continue the log LMDB holds", async (t) => {
  const image = await imageAfter(t, 2);
  forgeRecord(image, recordOffsets(image).at(-1)!, encodeWalPayload(null, [entry(9, 1)]));
  await assertRefused(image, /wal\.log: its records do not continue the log stored in LMDB \(save: entry at position 3 has index 9/);
});

test("a directory written before the log file existed opens with its log, and gets one", async (t) => {
  const dataDir = temporaryDirectory(t);
  const storage = await WalStorage.open(dataDir, 1, logOnly);
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 1 }, [entry(1, 1), entry(2, 1)]);
  await storage.close();
  fs.rmSync(walPath(dataDir));
  assert.deepEqual(await loadLog(dataDir), { indexes: [1, 2], commitIndex: 1 });
  assert.ok(fs.existsSync(walPath(dataDir)));
});

test("a crash just as the full log file starts over leaves a directory that opens with every acknowledged save", async (t) => {
  const dataDir = temporaryDirectory(t);
  // Seven records without a hard state fill the file; the eighth save starts it over.
  const storage = await WalStorage.open(dataDir, 1, { ...walLimitsDefaults, capacityBytes: 400, checkpointBytes: Number.POSITIVE_INFINITY });
  const reset = WalFile.prototype.reset;
  t.after(() => {
    WalFile.prototype.reset = reset;
  });
  // The power fails after LMDB took the file's records, before the new generation's header is written.
  WalFile.prototype.reset = () => Promise.reject(new Error("the power failed"));
  for (let index = 1; index <= 7; index++) await storage.save(null, [entry(index, 1)]);
  await assert.rejects(storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 8 }, [entry(8, 1)]), /the power failed/);
  const image = crashImage(t, dataDir);
  WalFile.prototype.reset = reset;
  await storage.close();
  assert.deepEqual(await loadLog(image), { indexes: [1, 2, 3, 4, 5, 6, 7], commitIndex: 0 });
});

/**
 * A storage whose writes to its log file are counted: `writes()` is how many
 * ran on the calling thread (fs.writeSync) and how many on the pool (fs.write).
 */
async function storageCountingWrites(t: TestContext, limits: WalLimits) {
  const dataDir = temporaryDirectory(t);
  const storage = await WalStorage.open(dataDir, 1, limits);
  t.after(() => storage.close());
  const writeSync = fsFunctions.writeSync;
  // WalFile writes through node:fs's named exports; syncBuiltinESMExports makes them the mocks.
  const onThread = t.mock.method(fsFunctions, "writeSync");
  const onPool = t.mock.method(fsFunctions, "write");
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
  const writes = (): readonly number[] => [onThread.mock.callCount(), onPool.mock.callCount()];
  return { storage, writes, onThread, writeSync };
}

test("which writes wait on the calling thread: every small one when inline, only one of at most one entry when inline-single (a leader's)", async (t) => {
  const { storage, writes } = await storageCountingWrites(t, logOnly);
  const large = (index: number): Entry => ({ index, term: 1, type: "command", data: new Uint8Array(logOnly.inlineWriteBytesMax) });

  storage.setWriteMode("inline-single");
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 0 }, [entry(1, 1)]);
  assert.deepEqual(writes(), [1, 0], "one entry: on the calling thread");
  await storage.save(null, [entry(2, 1), entry(3, 1)]);
  assert.deepEqual(writes(), [1, 1], "two entries: on the pool");
  await Promise.all([storage.save(null, [entry(4, 1)]), storage.save(null, [entry(5, 1)])]);
  assert.deepEqual(writes(), [1, 2], "two saves of one entry, written together: on the pool");
  await storage.save(null, [large(6)]);
  assert.deepEqual(writes(), [1, 3], "one entry too large: on the pool");

  storage.setWriteMode("inline");
  await storage.save(null, [entry(7, 1), entry(8, 1)]);
  assert.deepEqual(writes(), [2, 3], "two entries: on the calling thread");
  await storage.save(null, [large(9)]);
  assert.deepEqual(writes(), [2, 4], "too large: on the pool");
});

test("in inline-single, a write slower than slowWriteMs sends the writes after it to the pool until one is fast again", async (t) => {
  const { storage, writes, onThread, writeSync } = await storageCountingWrites(t, { ...logOnly, slowWriteMs: 20 });
  storage.setWriteMode("inline-single");
  // The disk stalls for 50 ms under the first write.
  const stalledWrite = (fd: number, data: NodeJS.ArrayBufferView, offset?: number | null, length?: number | null, position?: number | null): number => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    return writeSync(fd, data, offset, length, position);
  };
  onThread.mock.mockImplementationOnce(stalledWrite as typeof writeSync);
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 0 }, [entry(1, 1)]);
  assert.deepEqual(writes(), [1, 0], "the stalled write, on the calling thread");
  await storage.save(null, [entry(2, 1)]);
  assert.deepEqual(writes(), [1, 1], "after it, one entry: on the pool");
  await storage.save(null, [entry(3, 1)]);
  assert.deepEqual(writes(), [2, 1], "after a fast write, one entry: on the calling thread again");
});
