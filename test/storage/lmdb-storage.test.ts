/**
 * Proves that LmdbStorage refuses, with one clear StorageError line naming the
 * directory, every data directory it cannot trust (another server's, one of
 * another format, a corrupt file, records that contradict each other) and
 * never rewrites it; that a missing directory is created fresh; and that
 * writes queued without waiting apply in call order. The round-trip cases
 * shared with MemoryStorage are in storage-contract.test.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { open } from "lmdb";
import { logStart } from "../../src/raft/index.ts";
import type { Entry } from "../../src/raft/index.ts";
import { decodeMeta, encodeEntries, encodeHardState, encodeLogStart, encodeMeta, encodeSnapshotRecord } from "../../src/storage/lmdb-records.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { StorageError } from "../../src/storage/storage-error.ts";

function entry(index: number, term: number): Entry {
  return { index, term, type: "command", data: new Uint8Array([index, term]) };
}

/** What load() says of a storage that never compacted nor stored a snapshot. */
const noSnapshot = { logStart, snapshot: logStart };

function temporaryDirectory(t: { after(fn: () => void): void }): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "zraft-lmdb-"));
  t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** A data directory of server 1 holding a three-entry log, in three records so that one can be tampered with alone. */
async function populated(t: { after(fn: () => void): void }): Promise<string> {
  const dataDir = temporaryDirectory(t);
  const storage = await LmdbStorage.open(dataDir, 1);
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 2 }, [entry(1, 1), entry(2, 1), entry(3, 1)]);
  await storage.close();
  await tamper(path.join(dataDir, "server-1"), (db) => {
    for (const index of [1, 2, 3]) db.putSync(index, encodeEntries([entry(index, 1)]));
  });
  return dataDir;
}

/** Writes behind LmdbStorage's back, as corruption or an old build would. */
async function tamper(environment: string, change: (db: ReturnType<typeof openRaw>) => void): Promise<void> {
  const db = openRaw(environment);
  try {
    await db.transaction(() => change(db));
  } finally {
    await db.close();
  }
}

function openRaw(environment: string) {
  return open<Uint8Array, number | string | [string, number]>({ path: environment, encoding: "binary", overlappingSync: false });
}

function fileBytes(environment: string): Buffer {
  return fs.readFileSync(path.join(environment, "data.mdb"));
}

/** Opening must fail with one StorageError line that names the directory and matches `problem`. */
async function assertRefused(dataDir: string, serverId: number, problem: RegExp): Promise<void> {
  const environment = path.join(dataDir, `server-${serverId}`);
  await assert.rejects(LmdbStorage.open(dataDir, serverId), (error: unknown) => {
    assert.ok(error instanceof StorageError, `expected a StorageError, got ${String(error)}`);
    assert.equal(error.name, "StorageError");
    assert.equal(error.path, environment);
    assert.ok(error.message.startsWith(`${environment}: `), error.message);
    assert.match(error.message, problem);
    assert.ok(!error.message.includes("\n"), `more than one line: ${error.message}`);
    return true;
  });
}

test("a missing data directory is created fresh, nested directories included", async (t) => {
  const dataDir = path.join(temporaryDirectory(t), "not", "yet");
  const storage = await LmdbStorage.open(dataDir, 4);
  assert.equal(storage.path, path.join(dataDir, "server-4"));
  assert.deepEqual(await storage.load(), {
    hardState: { currentTerm: 0, votedFor: null, commitIndex: 0 },
    entries: [],
    ...noSnapshot,
  });
  await storage.close();
  assert.ok(fs.statSync(path.join(dataDir, "server-4", "data.mdb")).isFile());
});

test("an empty data file, as a crash while LMDB created it leaves, is initialised fresh", async (t) => {
  const dataDir = temporaryDirectory(t);
  fs.mkdirSync(path.join(dataDir, "server-1"));
  fs.writeFileSync(path.join(dataDir, "server-1", "data.mdb"), "");
  const storage = await LmdbStorage.open(dataDir, 1);
  await storage.save(null, [entry(1, 1)]);
  await storage.close();
  const reopened = await LmdbStorage.open(dataDir, 1);
  assert.deepEqual((await reopened.load()).entries, [entry(1, 1)]);
  await reopened.close();
});

test("refuses the data directory of another server, and leaves it as it was", async (t) => {
  const dataDir = await populated(t);
  fs.renameSync(path.join(dataDir, "server-1"), path.join(dataDir, "server-2"));
  const before = fileBytes(path.join(dataDir, "server-2"));
  await assertRefused(dataDir, 2, /belongs to server 1, not to server 2/);
  assert.deepEqual(fileBytes(path.join(dataDir, "server-2")), before);
});

// LMDB either rejects such a file or faults on it; the probe process turns both into a refusal.
const lmdbRefusal = /LMDB (crashed \(SIG[A-Z]+\)|cannot read it)/;

test("refuses a data file with garbage written over all of it", async (t) => {
  const dataDir = await populated(t);
  const dataFile = path.join(dataDir, "server-1", "data.mdb");
  const garbage = Buffer.alloc(fs.statSync(dataFile).size, 0xa5);
  fs.writeFileSync(dataFile, garbage);
  await assertRefused(dataDir, 1, lmdbRefusal);
  assert.deepEqual(fs.readFileSync(dataFile), garbage);
});

test("refuses a data file whose pages after the two meta pages are garbage", async (t) => {
  const dataDir = await populated(t);
  const dataFile = path.join(dataDir, "server-1", "data.mdb");
  const bytes = fs.readFileSync(dataFile);
  const metaPagesBytes = 2 * 4096;
  bytes.fill(0x5a, metaPagesBytes);
  fs.writeFileSync(dataFile, bytes);
  await assertRefused(dataDir, 1, lmdbRefusal);
});

test("refuses a log with a hole in it", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => db.removeSync(2));
  await assertRefused(dataDir, 1, /log is inconsistent: entry at position 2 has index 3/);
});

test("refuses an entry stored under another entry's index", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => db.putSync(2, encodeEntries([entry(3, 1)])));
  await assertRefused(dataDir, 1, /log record under key 2 holds index 3/);
});

test("refuses a log record cut short", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => db.putSync(2, encodeEntries([entry(2, 1)]).subarray(0, 20)));
  await assertRefused(dataDir, 1, /log record 2 ends inside entry 2/);
});

test("refuses a log whose terms go down", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => db.putSync(1, encodeEntries([entry(1, 5)])));
  await assertRefused(dataDir, 1, /entry 2 has term 1, below the term 5 of entry 1/);
});

test("refuses a hard state whose commitIndex is beyond the log", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) =>
    db.putSync("hardState", encodeHardState({ currentTerm: 1, votedFor: 1, commitIndex: 9 })),
  );
  await assertRefused(dataDir, 1, /commitIndex 9 beyond the last log index 3/);
});

test("refuses an unreadable hard state record", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => db.putSync("hardState", new Uint8Array([0xff, 0x00])));
  await assertRefused(dataDir, 1, /hard state record is not valid JSON/);
});

test("refuses an environment that holds records but no meta record", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => db.removeSync("meta"));
  await assertRefused(dataDir, 1, /holds records but no meta record/);
});

test("refuses another storage format version", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => db.putSync("meta", encodeMeta({ formatVersion: 1, serverId: 1 })));
  await assertRefused(dataDir, 1, /format version 1, this build reads only version 3 \(an older zraft wrote it and there is no converter: move the directory aside/);
});

test("opens a version-2 directory as it is and marks it version 3, which a version-2 build refuses", async (t) => {
  const dataDir = await populated(t);
  const environment = path.join(dataDir, "server-1");
  await tamper(environment, (db) => db.putSync("meta", encodeMeta({ formatVersion: 2, serverId: 1 })));
  const storage = await LmdbStorage.open(dataDir, 1);
  const { entries } = await storage.load();
  await storage.close();
  assert.ok(entries.length > 0);
  const db = openRaw(environment);
  t.after(() => db.close());
  assert.deepEqual(decodeMeta(db.get("meta")), { formatVersion: 3, serverId: 1 });
});

test("refuses a record it does not know", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => db.putSync("surprise", new Uint8Array([1])));
  await assertRefused(dataDir, 1, /unexpected record "surprise"/);
});

/** Stores a snapshot record (and its chunks) behind the storage's back. */
function putSnapshot(db: ReturnType<typeof openRaw>, index: number, term: number, chunks = 1): void {
  db.putSync("snapshot", encodeSnapshotRecord({ meta: { index, term }, chunks }));
  for (let chunk = 0; chunk < chunks; chunk++) db.putSync(["snapshot", chunk], new Uint8Array([chunk]));
}

test("refuses a snapshot with a chunk missing", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => {
    putSnapshot(db, 2, 1, 3);
    db.removeSync(["snapshot", 1]);
  });
  await assertRefused(dataDir, 1, /snapshot chunk 1 is missing/);
});

test("refuses a snapshot chunk its record does not count", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => {
    putSnapshot(db, 2, 1, 2);
    db.putSync("snapshot", encodeSnapshotRecord({ meta: { index: 2, term: 1 }, chunks: 1 }));
  });
  await assertRefused(dataDir, 1, /holds 2 snapshot chunks, but its snapshot record says 1/);
});

test("refuses a snapshot past the log's last entry", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => putSnapshot(db, 9, 1));
  await assertRefused(dataDir, 1, /the snapshot ends at entry 9, outside the log \(0 to 3\)/);
});

test("refuses a snapshot of another term than the log's entry", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => putSnapshot(db, 2, 5));
  await assertRefused(dataDir, 1, /the snapshot ends at entry 2 of term 5, but the log has term 1 there/);
});

test("refuses a log start with no snapshot of the entries before it", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => {
    db.putSync("logStart", encodeLogStart({ index: 1, term: 1 }));
    db.removeSync(1);
  });
  await assertRefused(dataDir, 1, /the log starts after entry 1, but there is no snapshot of the entries before/);
});

test("refuses a log that does not continue its start", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => {
    db.putSync("logStart", encodeLogStart({ index: 1, term: 1 }));
    putSnapshot(db, 1, 1);
    db.removeSync(1);
    db.removeSync(2);
  });
  await assertRefused(dataDir, 1, /log is inconsistent: entry at position 2 has index 3/);
});

test("refuses a log record wholly at or before the log start", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => {
    db.putSync("logStart", encodeLogStart({ index: 1, term: 1 }));
    putSnapshot(db, 1, 1);
  });
  await assertRefused(dataDir, 1, /log record 1 lies wholly at or before the log start 1/);
});

test("refuses a log start of another term than the entry the record around it holds", async (t) => {
  const dataDir = await populated(t);
  await tamper(path.join(dataDir, "server-1"), (db) => {
    db.putSync(1, encodeEntries([entry(1, 1), entry(2, 1), entry(3, 1)]));
    db.removeSync(2);
    db.removeSync(3);
    db.putSync("logStart", encodeLogStart({ index: 2, term: 7 }));
    putSnapshot(db, 2, 7);
  });
  await assertRefused(dataDir, 1, /log record 1 has term 1 at entry 2, the log start has term 7/);
});

test("refuses an unreadable log start or snapshot record", async (t) => {
  const dataDir = await populated(t);
  const environment = path.join(dataDir, "server-1");
  await tamper(environment, (db) => db.putSync("logStart", new TextEncoder().encode('{"index":2,"term":0}')));
  await assertRefused(dataDir, 1, /log start record has invalid position \{"index":2,"term":0\}/);
  await tamper(environment, (db) => {
    db.removeSync("logStart");
    db.putSync("snapshot", new TextEncoder().encode('{"index":2,"term":1,"chunks":0}'));
  });
  await assertRefused(dataDir, 1, /snapshot record has invalid chunk count 0/);
});

test("refuses a data directory path that is a file", async (t) => {
  const dataDir = temporaryDirectory(t);
  fs.writeFileSync(path.join(dataDir, "server-1"), "not a directory");
  await assertRefused(dataDir, 1, /exists but is not a directory/);
});

test("saves queued without waiting apply in call order, and load waits for them", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  const saves = [
    storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 0 }, [entry(1, 1), entry(2, 1), entry(3, 1)]),
    storage.save({ currentTerm: 2, votedFor: null, commitIndex: 1 }, [entry(2, 2)]),
    storage.save(null, [entry(3, 2), entry(4, 2)]),
  ];
  const loaded = storage.load();
  await Promise.all(saves);
  assert.deepEqual(await loaded, {
    hardState: { currentTerm: 2, votedFor: null, commitIndex: 1 },
    entries: [entry(1, 1), entry(2, 2), entry(3, 2), entry(4, 2)],
    ...noSnapshot,
  });
});

test("a save refused at once does not let a later write overtake the saves before it", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  const saves = [storage.save(null, [entry(1, 1), entry(2, 1), entry(3, 1)])];
  await assert.rejects(storage.save(null, [entry(5, 1)]), { name: "AssertionError" });
  // The truncation reads the log: it must wait for the first save, not only for the refused one.
  saves.push(storage.save(null, [entry(2, 2)]));
  await Promise.all(saves);
  assert.deepEqual((await storage.load()).entries, [entry(1, 1), entry(2, 2)]);
});

test("a snapshot, a compaction and an install queued without waiting apply in call order with the saves around them", async (t) => {
  const dataDir = temporaryDirectory(t);
  const storage = await LmdbStorage.open(dataDir, 1);
  const chunks = [new Uint8Array([1, 2]), new Uint8Array([3])];
  const writes = [
    storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 3 }, [entry(1, 1), entry(2, 1), entry(3, 1)]),
    storage.saveSnapshot({ index: 3, term: 1 }, chunks),
    storage.save(null, [entry(4, 1)]),
    storage.compact(2),
    storage.save(null, [entry(5, 1)]),
  ];
  await Promise.all(writes);
  assert.deepEqual(await storage.load(), {
    hardState: { currentTerm: 1, votedFor: 1, commitIndex: 3 },
    entries: [entry(3, 1), entry(4, 1), entry(5, 1)],
    logStart: { index: 2, term: 1 },
    snapshot: { index: 3, term: 1 },
  });
  const installed = { meta: { index: 9, term: 2 }, chunks: [new Uint8Array([9])] };
  const more = [storage.save(null, [entry(6, 1)]), storage.save({ currentTerm: 2, votedFor: null, commitIndex: 9 }, [], installed), storage.save(null, [entry(10, 2)])];
  await storage.close();
  await Promise.all(more);
  const reopened = await LmdbStorage.open(dataDir, 1);
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.load(), {
    hardState: { currentTerm: 2, votedFor: null, commitIndex: 9 },
    entries: [entry(10, 2)],
    logStart: installed.meta,
    snapshot: installed.meta,
  });
  assert.deepEqual([...reopened.readSnapshot()!.chunks()], installed.chunks);
});

test("a snapshot of 1 MiB chunks is stored as they are produced and read back one at a time", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  const chunk = (n: number): Uint8Array => new Uint8Array(1 << 20).fill(n);
  const produced: number[] = [];
  function* image(): Generator<Uint8Array> {
    for (let n = 0; n < 8; n++) {
      produced.push(n);
      yield chunk(n);
    }
  }
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 1 }, [entry(1, 1)]);
  const saved = storage.saveSnapshot({ index: 1, term: 1 }, image());
  assert.deepEqual(produced, [], "produced once the write runs, not when it is called");
  await saved;
  const stored = storage.readSnapshot()!;
  let read = 0;
  for (const data of stored.chunks()) assert.deepEqual(data, chunk(read++));
  assert.equal(read, 8);
  assert.deepEqual(storage.snapshotChunk({ index: 1, term: 1 }, 7), { data: chunk(7), last: true });
});

test("a snapshot replaced while its chunks are read is an AssertionError, not a mix of two", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 2 }, [entry(1, 1), entry(2, 1)]);
  await storage.saveSnapshot({ index: 1, term: 1 }, [new Uint8Array([1]), new Uint8Array([2])]);
  const chunks = storage.readSnapshot()!.chunks()[Symbol.iterator]();
  assert.deepEqual(chunks.next().value, new Uint8Array([1]));
  await storage.saveSnapshot({ index: 2, term: 1 }, [new Uint8Array([3]), new Uint8Array([4])]);
  assert.throws(() => chunks.next(), { name: "AssertionError", message: /snapshot 1 was replaced while it was read/ });
});

test("a read below the log start is an AssertionError and leaves the storage usable", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 3 }, [entry(1, 1), entry(2, 1), entry(3, 1)]);
  await storage.saveSnapshot({ index: 2, term: 1 }, [new Uint8Array([1])]);
  await storage.compact(2);
  assert.throws(() => storage.term(1), { name: "AssertionError", message: /log entry 1 was asked for, but the log starts after entry 2/ });
  assert.throws(() => storage.entries(2, 3, Number.POSITIVE_INFINITY), { name: "AssertionError" });
  await storage.save(null, [entry(4, 1)]);
  assert.deepEqual(storage.entries(3, 4, Number.POSITIVE_INFINITY), [entry(3, 1), entry(4, 1)]);
});

test("saves queued behind a truncating one before close() are all written", async (t) => {
  const dataDir = temporaryDirectory(t);
  const storage = await LmdbStorage.open(dataDir, 1);
  void storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 0 }, [entry(1, 1), entry(2, 1)]);
  // The truncating save waits for the one before it; the append after it waits for it; close() waits for both.
  const saves = [storage.save({ currentTerm: 2, votedFor: null, commitIndex: 1 }, [entry(2, 2)]), storage.save(null, [entry(3, 2)])];
  await storage.close();
  await Promise.all(saves);
  const reopened = await LmdbStorage.open(dataDir, 1);
  t.after(() => reopened.close());
  assert.deepEqual((await reopened.load()).entries, [entry(1, 1), entry(2, 2), entry(3, 2)]);
});

test("remap waits for queued saves, and the storage reads and writes on through the new map", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  const queued = storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 0 }, [entry(1, 1), entry(2, 1)]);
  await storage.remap();
  await queued;
  assert.deepEqual(storage.entries(1, 2, Number.POSITIVE_INFINITY), [entry(1, 1), entry(2, 1)]);
  await storage.save({ currentTerm: 2, votedFor: null, commitIndex: 2 }, [entry(3, 2)]);
  assert.deepEqual(await storage.load(), {
    hardState: { currentTerm: 2, votedFor: null, commitIndex: 2 },
    entries: [entry(1, 1), entry(2, 1), entry(3, 2)],
    ...noSnapshot,
  });
});

/** Resident pages of mapped files, in KiB, from /proc; undefined where there is none. */
function rssFileKib(): number | undefined {
  try {
    return Number(/RssFile:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1]);
  } catch {
    return undefined;
  }
}

test("remap lets go of the pages a read of the whole log mapped (measured: 287 MB after a million puts)", { skip: rssFileKib() === undefined ? "no /proc/self/status" : false }, async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  const big = (index: number): Entry => ({ index, term: 1, type: "command", data: new Uint8Array(1000).fill(index % 251) });
  for (let first = 1; first <= 20_000; first += 1000) {
    await storage.save(null, Array.from({ length: 1000 }, (_, i) => big(first + i)));
  }
  assert.equal(storage.entries(1, 20_000, Number.POSITIVE_INFINITY).length, 20_000);
  const mapped = rssFileKib()!;
  await storage.remap();
  const remapped = rssFileKib()!;
  assert.ok(mapped - remapped > 10_000, `RssFile went from ${mapped} to ${remapped} KiB after a 20 MB log was read`);
});

test("a closed storage refuses to save or load; close is idempotent", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  const pending = storage.save(null, [entry(1, 1)]);
  await storage.close();
  await pending;
  await storage.close();
  await assert.rejects(storage.save(null, [entry(2, 1)]), { name: "StorageError", message: /storage is closed/ });
  await assert.rejects(storage.load(), { name: "StorageError", message: /storage is closed/ });
});

test("a refused save leaves the storage usable", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  await assert.rejects(storage.save(null, [entry(2, 1)]), { name: "AssertionError" });
  await storage.save(null, [entry(1, 1)]);
  assert.deepEqual((await storage.load()).entries, [entry(1, 1)]);
});

// entryBytes of these two-byte entries is 26.
test("the core's reads see each save once it resolves, and load returns only the tail it is asked for", async (t) => {
  const storage = await LmdbStorage.open(temporaryDirectory(t), 1);
  t.after(() => storage.close());
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 0 }, [entry(1, 1), entry(2, 1), entry(3, 1)]);
  assert.equal(storage.term(3), 1);
  await storage.save({ currentTerm: 2, votedFor: 1, commitIndex: 3 }, [entry(3, 2), entry(4, 2), entry(5, 2)]);
  assert.equal(storage.term(3), 2, "a truncated entry's replacement is seen at once");
  assert.deepEqual(storage.entries(2, 5, Number.POSITIVE_INFINITY), [entry(2, 1), entry(3, 2), entry(4, 2), entry(5, 2)]);
  assert.deepEqual(storage.entries(2, 5, 60), [entry(2, 1), entry(3, 2)], "bounded by bytes");
  assert.deepEqual(storage.entries(4, 4, 0), [entry(4, 2)], "at least one");
  assert.deepEqual(await storage.load(78), {
    hardState: { currentTerm: 2, votedFor: 1, commitIndex: 3 },
    entries: [entry(3, 2), entry(4, 2), entry(5, 2)],
    ...noSnapshot,
  });
  assert.deepEqual((await storage.load(1)).entries, [entry(5, 2)], "at least the last entry");
});

test("a read of entries that are not there is a StorageError, and the storage then refuses to write", async (t) => {
  const storage = await LmdbStorage.open(await populated(t), 1);
  t.after(() => storage.close());
  assert.throws(() => storage.entries(2, 5, Number.POSITIVE_INFINITY), { name: "StorageError", message: /log entry 4 was asked for, but it is missing/ });
  assert.throws(() => storage.term(9), { name: "StorageError", message: /log entry 9 was asked for, but it is missing/ });
  await assert.rejects(storage.save(null, [entry(4, 1)]), { name: "StorageError", message: /an earlier read or write failed/ });
});

test("a log of a thousand entries is verified whole at open but loaded only as far as the tail", async (t) => {
  const dataDir = temporaryDirectory(t);
  const storage = await LmdbStorage.open(dataDir, 1);
  await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 1000 }, Array.from({ length: 1000 }, (_, i) => entry(i + 1, 1)));
  await storage.close();
  const reopened = await LmdbStorage.open(dataDir, 1);
  t.after(() => reopened.close());
  assert.deepEqual((await reopened.load(26 * 10)).entries.map((e) => e.index), Array.from({ length: 10 }, (_, i) => 991 + i));
  assert.deepEqual(reopened.entries(1, 2, Number.POSITIVE_INFINITY), [entry(1, 1), entry(2, 1)]);
});

/** The keys of the log records in `environment` (the storage must be closed). */
async function recordKeys(environment: string): Promise<unknown[]> {
  const db = openRaw(environment);
  try {
    return [...db.getKeys({ start: 1, end: "" })];
  } finally {
    await db.close();
  }
}

// docs/architecture.md §2: small records appended save after save would each map a leaf page into the server.
test("small saves fill one record until it is sealed, across a reopen; a record cut by a truncation takes no more", async (t) => {
  const dataDir = temporaryDirectory(t);
  const environment = path.join(dataDir, "server-1");
  const big = (index: number, term: number): Entry => ({ index, term, type: "command", data: new Uint8Array(100).fill(index) });
  let storage = await LmdbStorage.open(dataDir, 1);
  for (let index = 1; index <= 80; index++) await storage.save({ currentTerm: 1, votedFor: 1, commitIndex: 0 }, [big(index, 1)]);
  await storage.close();
  // 12 header bytes and 113 per entry: the first record is sealed at 73 entries, past 8,192 bytes.
  assert.deepEqual(await recordKeys(environment), [1, 74]);

  storage = await LmdbStorage.open(dataDir, 1);
  await storage.save(null, [big(81, 1)]);
  await storage.save(null, [big(5, 2)]);
  await storage.save(null, [big(6, 2)]);
  assert.deepEqual((await storage.load()).entries, [1, 2, 3, 4].map((i) => big(i, 1)).concat([big(5, 2), big(6, 2)]));
  await storage.close();
  assert.deepEqual(await recordKeys(environment), [1, 5], "the cut record takes no more; entries 5 and 6 share a new one");
});
