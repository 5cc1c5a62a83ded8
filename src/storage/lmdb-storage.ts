import * as fs from "node:fs";
import * as path from "node:path";
import { open } from "lmdb";
import type { RootDatabase } from "lmdb";
import { AssertionError, assert } from "../base/assert.ts";
import { emptyHardState, logStart, takeWithin } from "../raft/index.ts";
import type {
  Entry,
  HardState,
  LogIndex,
  LogPosition,
  LogStorage,
  NodeId,
  ReceivedSnapshot,
  SnapshotChunk,
  SnapshotMeta,
  Term,
} from "../raft/index.ts";
import {
  decodeEntries,
  decodeHardState,
  decodeLogStart,
  decodeMeta,
  decodeSnapshotRecord,
  encodeEntries,
  encodeHardState,
  encodeLogStart,
  encodeMeta,
  encodeSnapshotRecord,
  sealedRecordBytes,
  storageFormatVersion,
  upgradableFormatVersion,
} from "./lmdb-records.ts";
import type { SnapshotRecord } from "./lmdb-records.ts";
import { probeLmdbEnvironment } from "./lmdb-probe.ts";
import { findAppendProblem, findHardStateProblem } from "./raft-state-check.ts";
import { StorageError, StorageWriteError, describeError } from "./storage-error.ts";
import type { RaftState, RaftStorage, StoredSnapshot } from "./storage.ts";
import { WriteOrder } from "./write-order.ts";

// One database holds everything. The log is one record per save (lmdb-records.ts), keyed by the index of
// its first entry (numbers), which LMDB's ordered-binary key encoding sorts numerically and before every
// string key (and every array starting with one), so the log is one range.
const metaKey = "meta";
const hardStateKey = "hardState";
// Absent until compaction or an installed snapshot moves the log's start (dissertation §5.1).
const logStartKey = "logStart";
// The stored snapshot's record; its chunks are stored under [snapshotKey, n], so that one is read at a time.
const snapshotKey = "snapshot";
const recordKeys: ReadonlySet<unknown> = new Set([metaKey, hardStateKey, logStartKey, snapshotKey]);
// The smallest string key: the numeric range [1, logEnd) is exactly the log.
const logEnd = "";

type Key = number | string | [string, number];
type Database = RootDatabase<Uint8Array, Key>;

function chunkKey(chunk: number): Key {
  return [snapshotKey, chunk];
}

function isChunkKey(key: unknown): key is [string, number] {
  return Array.isArray(key) && key.length === 2 && key[0] === snapshotKey && Number.isSafeInteger(key[1]);
}

/** The stored state as the saves called so far leave it, kept so that a save that appends reads nothing. */
interface LogEnd {
  /** The position before the first entry (RaftState.logStart). */
  readonly start: LogPosition;
  readonly last: LogPosition;
  /** The entries of the last record while saves may still add to it (under sealedRecordBytes), else null. */
  readonly open: readonly Entry[] | null;
  readonly hardState: HardState;
  readonly snapshot: SnapshotRecord | null;
}

/** Just the index and term of `at` (an entry, or a caller's object), to keep. */
function positionOf({ index, term }: LogPosition): LogPosition {
  return { index, term };
}

/** A snapshot includes at least entry 1 (its index and term are those of an entry). */
function checkSnapshotMeta(meta: SnapshotMeta): void {
  assert(meta.index >= 1 && meta.term >= 1, `snapshot: invalid position ${JSON.stringify(positionOf(meta))}`);
}

/** `entries` when their record is still open (see LogEnd.open). */
function openEntries(entries: readonly Entry[], record: Uint8Array): readonly Entry[] | null {
  return record.length < sealedRecordBytes ? entries : null;
}

/**
 * What made a write fail. lmdb-js rejects a failed commit with "Commit
 * failed" and hands the system's error (ENOSPC, EIO …) over separately, as
 * a promise that rejects with it.
 */
async function writeFailureOf(error: unknown): Promise<string> {
  const commitError: unknown = (error as { commitError?: unknown } | null)?.commitError;
  if (!(commitError instanceof Promise)) return describeError(error);
  const cause: unknown = await commitError.then(
    () => error,
    (reason: unknown) => reason,
  );
  const code = (cause as { code?: unknown } | null)?.code;
  return `${describeError(cause)}${code === undefined ? "" : `, code ${String(code)}`}`;
}

/**
 * The durable Raft state of one server in its own LMDB environment at
 * `<dataDir>/server-<id>/`.
 *
 * Durability: `overlappingSync` is off, so LMDB fsyncs inside each commit, and
 * a write's promise resolves only after that commit (lmdb-js write.js resolves
 * on TXN_COMMITTED, which writer.cpp sets after mdb_txn_commit returns). The
 * commit runs on lmdb-js's writer thread, so the event loop stays free while
 * the disk syncs. test/storage/durability.test.ts checks the order of
 * the syscalls.
 *
 * A save that only appends (every save but a follower's repair of a
 * conflicting suffix) is worked out on the calling thread from the state the
 * saves before it leave (LogEnd) and handed to the writer thread as one
 * batch: one trip there and back. A transaction whose callback runs inside
 * it costs two more trips between the threads, each a wake-up on a busy
 * machine, and the followers' saves are on every write's path. A save that
 * truncates reads the log, so it first waits for the saves before it, and
 * the saves after it wait for it. So do the rare writes that read the log
 * or the snapshot: saveSnapshot, compact and a save with a received snapshot.
 *
 * Log compaction (dissertation ch. 5): the stored snapshot is a record of
 * its position and chunk count and its chunks under keys of their own, all
 * replaced in one transaction. compact() removes whole records only; the
 * log start record says where the log begins, inside the first record or
 * before it.
 *
 * A directory that is unreadable, corrupt, of another format version or of
 * another server is refused with a StorageError; it is never reset. An
 * existing environment is first read by a throwaway process
 * (lmdb-probe.ts), so that a file that would crash LMDB is refused instead.
 *
 * It is also the core's LogStorage: reads with synchronous LMDB gets, which
 * see every commit that has resolved. A read that fails is a StorageError,
 * and the storage refuses every later write, as after a failed write.
 */
export class LmdbStorage implements RaftStorage, LogStorage {
  // The order of the writes; close() and load() wait for those queued.
  private readonly writes = new WriteOrder();
  private failure: unknown = null;
  private closed = false;

  private constructor(
    /** The environment's directory. */
    readonly path: string,
    private db: Database,
    /**
     * The end of the log: its last entry, the last record while it is
     * small enough to take more entries (see lmdb-records.ts), and the hard
     * state. A save appends without reading a sealed record, whose pages
     * would then be mapped into the process. Set when a save has passed
     * every check and is handed to LMDB; a save whose commit then fails
     * leaves the storage refusing every later write.
     */
    private end: LogEnd,
  ) {}

  /**
   * Opens (or creates) the storage of server `serverId` under `dataDir`, and
   * reads and verifies everything in it.
   *
   * @throws StorageError when the directory cannot be used or holds state
   *   that cannot be trusted
   */
  static async open(dataDir: string, serverId: NodeId): Promise<LmdbStorage> {
    assert(Number.isSafeInteger(serverId) && serverId >= 1, `invalid server id ${serverId}`);
    const directory = path.resolve(dataDir, `server-${serverId}`);
    // An empty data file (a crash while LMDB created it) holds no promise yet: LMDB initialises it like a missing one.
    if (checkDirectory(directory) === "existing" && dataFileBytes(directory) > 0) {
      const problem = await probeLmdbEnvironment(directory);
      if (problem !== null) throw new StorageError(directory, problem);
    }
    const db = openEnvironment(directory);
    try {
      await claim(db, directory, serverId);
      return new LmdbStorage(directory, db, verifyState(db, directory));
    } catch (error) {
      await db.close();
      throw error instanceof StorageError
        ? error
        : new StorageError(directory, `cannot read the LMDB environment (${describeError(error)})`, { cause: error });
    }
  }

  /**
   * Reads back and checks the hard state, the log's tail and start and where
   * the snapshot ends, after any write already called has settled.
   */
  async load(tailBytesMax = Number.POSITIVE_INFINITY): Promise<RaftState> {
    await this.writes.settled;
    return this.read(() => {
      const start = readRecord(this.db, this.path, logStartKey, decodeLogStart) ?? logStart;
      const tail = takeWithin(this.entriesNewestFirst(start.index), tailBytesMax).reverse();
      const first = tail[0];
      const before = first === undefined || first.index - 1 === start.index ? start : { index: first.index - 1, term: 0 };
      const logProblem = findAppendProblem(before, tail);
      if (logProblem !== null) throw new StorageError(this.path, `log is inconsistent: ${logProblem}`);
      const hardState = readRecord(this.db, this.path, hardStateKey, decodeHardState) ?? emptyHardState;
      const hardStateProblem = findHardStateProblem(hardState, tail.at(-1)?.index ?? start.index);
      if (hardStateProblem !== null) throw new StorageError(this.path, hardStateProblem);
      const snapshot = readRecord(this.db, this.path, snapshotKey, decodeSnapshotRecord)?.meta ?? logStart;
      return { hardState, entries: tail, logStart: start, snapshot };
    });
  }

  /** Where the log starts and ends, and the hard state, as the writes called so far leave them. */
  get written(): { readonly start: LogPosition; readonly last: LogPosition; readonly hardState: HardState } {
    const { start, last, hardState } = this.end;
    return { start, last, hardState };
  }

  /** The log start's own term too; below it is a bug in the caller (AssertionError). */
  term(index: LogIndex): Term {
    return this.read(() => this.readPosition(index).term);
  }

  entries(from: LogIndex, to: LogIndex, bytesMax: number): readonly Entry[] {
    return this.read(() => {
      this.checkNotCompacted(from);
      return takeWithin(this.storedEntries(from, to), bytesMax);
    });
  }

  snapshotChunk(snapshot: SnapshotMeta, chunk: number): SnapshotChunk | undefined {
    return this.read(() => {
      const stored = readRecord(this.db, this.path, snapshotKey, decodeSnapshotRecord);
      if (stored === undefined || stored.meta.index !== snapshot.index || stored.meta.term !== snapshot.term) return undefined;
      if (!Number.isSafeInteger(chunk) || chunk < 0 || chunk >= stored.chunks) return undefined;
      return { data: this.readChunk(chunk), last: chunk === stored.chunks - 1 };
    });
  }

  /** lmdb-js writes on a thread of its own in either case. */
  setWriteMode(): void {}

  /** The stored snapshot; its chunks are read one at a time as they are iterated. */
  readSnapshot(): StoredSnapshot | null {
    const stored = this.read(() => readRecord(this.db, this.path, snapshotKey, decodeSnapshotRecord));
    if (stored === undefined) return null;
    const { meta } = stored;
    return { meta, chunks: () => this.chunksOf(meta) };
  }

  /**
   * One LMDB transaction: with `snapshot`, remove the whole log and store the
   * snapshot in place of the stored one, with the log starting at it;
   * truncate the log from `entries[0].index` when that is at or below the
   * last stored index; append `entries`; store `hardState` when not null.
   * Resolves once it is fsync'd. Saves are applied in call order, so callers
   * may queue several. Rejects with AssertionError (and writes nothing) when
   * the result would not be a valid log; after any other failure the storage
   * refuses every later write, since a server that cannot persist must stop.
   */
  save(hardState: HardState | null, entries: readonly Entry[], snapshot?: ReceivedSnapshot): Promise<void> {
    if (snapshot !== undefined) return this.queue(true, () => this.writeInstall(hardState, entries, snapshot));
    const first = entries[0];
    const truncates = first !== undefined && first.index <= this.end.last.index;
    return this.queue(truncates, () => this.write(hardState, entries));
  }

  /**
   * One LMDB transaction that writes the chunks as it iterates them (once,
   * after the saves called before it), in place of the stored snapshot's.
   * Rejects with AssertionError, having written nothing, when `meta` is not
   * a position of the log or there are no chunks.
   */
  saveSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<void> {
    return this.queue(true, () => this.writeSnapshot(meta, chunks));
  }

  /**
   * Removes the log records that hold only entries at or below `through`
   * and stores the new log start, in one transaction after the saves called
   * before it; a record that holds entries on both sides of `through` stays
   * whole, the log start inside it. Rejects with AssertionError when
   * `through` is below the log start or above the stored snapshot (whose
   * entries would then be lost, dissertation §5.1).
   */
  compact(through: LogIndex): Promise<void> {
    return this.queue(true, () => this.writeCompaction(through));
  }

  /**
   * Closes the environment and opens it again, once the saves called so far
   * have settled. Reading the whole log (verifying it at open, replaying it
   * at start-up) maps every page of the file into the process, and mapped
   * pages stay counted in its memory until the map goes: after a million
   * puts, 287 MB of a restarted server's 374 MB. A fresh map holds only
   * the pages read from then on.
   */
  async remap(): Promise<void> {
    await this.writes.settled;
    this.checkUsable();
    await this.db.close();
    this.db = openEnvironment(this.path);
  }

  /** Waits for queued saves, then closes the environment. Later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.settled;
    await this.db.close();
  }

  private checkUsable(): void {
    if (this.closed) throw new StorageError(this.path, "storage is closed");
    this.checkNotFailed();
  }

  private checkNotFailed(): void {
    if (this.failure !== null) {
      throw new StorageError(this.path, `an earlier read or write failed (${describeError(this.failure)}); refusing to write more`, {
        cause: this.failure,
      });
    }
  }

  /**
   * Queues a write (WriteOrder): at once when it neither reads the log nor
   * comes after one that waits. Maps its failure as save() says.
   */
  private queue(readsLog: boolean, write: () => Promise<unknown>): Promise<void> {
    try {
      this.checkUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    // A write that waited was called before close(), so it is written although close() may have begun meanwhile.
    return this.writes.queue(readsLog, write, () => this.checkNotFailed(), async (error: unknown) => {
      // A refused write aborted its transaction cleanly; any other failure leaves the disk in doubt.
      if (error instanceof AssertionError) throw error;
      this.failure ??= error;
      throw new StorageWriteError(this.path, `writing to disk failed (${await writeFailureOf(error)})`, { cause: error });
    });
  }

  /**
   * Checks a save against LogEnd and hands it to LMDB as one batch (one
   * transaction). Throws AssertionError, having written nothing, when the
   * result would not be a valid log. Reads the log only when it truncates,
   * and is then called only once every earlier save has settled.
   */
  private write(hardState: HardState | null, entries: readonly Entry[]): Promise<unknown> {
    const { start, last, open } = this.end;
    const lastIndex = last.index;
    const first = entries[0];
    const keep = first === undefined ? lastIndex : Math.min(first.index - 1, lastIndex);
    assert(keep >= start.index, `save: first entry has invalid index ${String(first?.index)}, at or below the log start ${start.index}`);
    const kept = keep === lastIndex ? last : this.guarded(() => this.readPosition(keep));
    const nextHardState = this.checkedSave(kept, hardState, entries);

    const removed: LogIndex[] = [];
    const records: [LogIndex, Uint8Array][] = [];
    if (keep < lastIndex) this.guarded(() => this.truncateAfter(keep, removed, records));
    // Small saves fill the open record up to a sealed one's size; after a truncation none is open.
    let nextOpen = keep === lastIndex ? open : null;
    if (first !== undefined) {
      const joined = nextOpen === null ? entries : [...nextOpen, ...entries];
      const encoded = encodeEntries(joined);
      records.push([joined[0]!.index, encoded]);
      nextOpen = openEntries(joined, encoded);
    }
    const written = this.db.batch(() => {
      for (const key of removed) void this.db.remove(key);
      for (const [key, record] of records) void this.db.put(key, record);
      if (hardState !== null) void this.db.put(hardStateKey, encodeHardState(hardState));
    });
    this.end = { ...this.end, last: positionOf(entries.at(-1) ?? kept), open: nextOpen, hardState: nextHardState };
    return written;
  }

  /**
   * The hard state a save leaves, once checked that `entries` may follow
   * `previous` and that it fits the log they end. Throws AssertionError
   * otherwise.
   */
  private checkedSave(previous: LogPosition, hardState: HardState | null, entries: readonly Entry[]): HardState {
    const appendProblem = findAppendProblem(previous, entries);
    assert(appendProblem === null, `save: ${appendProblem ?? ""}`);
    const nextHardState = hardState ?? this.end.hardState;
    const hardStateProblem = findHardStateProblem(nextHardState, previous.index + entries.length);
    assert(hardStateProblem === null, `save: ${hardStateProblem ?? ""}`);
    return nextHardState;
  }

  /**
   * A save with a snapshot received from the leader (dissertation §5.1): the
   * whole log goes, whatever of it matched, since the state machine is
   * restored from the snapshot; `entries` follow it. A transaction whose
   * callback runs inside it, like writeSnapshot's, so that a refusal in
   * putSnapshot aborts it whole.
   */
  private writeInstall(hardState: HardState | null, entries: readonly Entry[], snapshot: ReceivedSnapshot): Promise<unknown> {
    const { meta, chunks } = snapshot;
    checkSnapshotMeta(meta);
    const nextHardState = this.checkedSave(meta, hardState, entries);
    const record = entries.length === 0 ? null : encodeEntries(entries);
    return this.db.childTransaction(() => {
      for (const key of [...this.db.getKeys({ start: 1, end: logEnd })]) void this.db.remove(key);
      const stored = this.putSnapshot(meta, chunks);
      void this.db.put(logStartKey, encodeLogStart(meta));
      if (record !== null) void this.db.put(meta.index + 1, record);
      if (hardState !== null) void this.db.put(hardStateKey, encodeHardState(hardState));
      this.end = {
        start: positionOf(meta),
        last: positionOf(entries.at(-1) ?? meta),
        open: record === null ? null : openEntries(entries, record),
        hardState: nextHardState,
        snapshot: stored,
      };
    });
  }

  /**
   * A snapshot of this server's state machine. Its chunks are written as
   * they are iterated, inside the transaction (its callback runs on this
   * thread, with LMDB's write lock), so that they need not all be in memory
   * at once: a batch would hold on to each until its commit.
   */
  private writeSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<unknown> {
    checkSnapshotMeta(meta);
    const { start, last } = this.end;
    const inLog = meta.index >= start.index && meta.index <= last.index;
    assert(
      inLog && this.guarded(() => this.readPosition(meta.index)).term === meta.term,
      `saveSnapshot: the snapshot ends at entry ${meta.index} of term ${meta.term}, not a position of the log (${start.index} to ${last.index})`,
    );
    return this.db.childTransaction(() => {
      this.end = { ...this.end, snapshot: this.putSnapshot(meta, chunks) };
    });
  }

  /**
   * Inside a transaction: puts `chunks` and the snapshot's record in place
   * of the stored snapshot's. Throws AssertionError, which aborts the
   * transaction, when there are no chunks: InstallSnapshot needs a last one.
   */
  private putSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): SnapshotRecord {
    let count = 0;
    for (const chunk of chunks) void this.db.put(chunkKey(count++), chunk);
    assert(count >= 1, `snapshot ${meta.index} has no chunks`);
    for (let chunk = count; chunk < (this.end.snapshot?.chunks ?? 0); chunk++) void this.db.remove(chunkKey(chunk));
    const stored = { meta: positionOf(meta), chunks: count };
    void this.db.put(snapshotKey, encodeSnapshotRecord(stored));
    return stored;
  }

  private writeCompaction(through: LogIndex): Promise<unknown> {
    const { start, last, open, snapshot } = this.end;
    const snapshotIndex = snapshot?.meta.index ?? logStart.index;
    assert(
      through >= start.index && through <= snapshotIndex,
      `compact: through ${through} is outside the log start ${start.index} to the snapshot's index ${snapshotIndex}`,
    );
    const compacted = this.guarded(() => positionOf(this.readPosition(through)));
    const removed = this.guarded(() => this.recordsThrough(through));
    const written = this.db.batch(() => {
      for (const key of removed) void this.db.remove(key);
      void this.db.put(logStartKey, encodeLogStart(compacted));
    });
    // Compacted through the last entry, the open record is gone: appends start a new one.
    this.end = { ...this.end, start: compacted, open: through === last.index ? null : open };
    return written;
  }

  /** The keys of the records that hold only entries at or below `through`. */
  private recordsThrough(through: LogIndex): LogIndex[] {
    // Each record ends where the next begins; the last one that starts at or before through + 1 holds
    // entries after `through` unless the log ends at it.
    const keys = [...this.db.getKeys({ start: 1, end: through + 2 })] as LogIndex[];
    if (through < this.end.last.index) keys.pop();
    return keys;
  }

  /** Lists the records after `keep` for removal, and the one that holds `keep`, cut back to it, for writing. */
  private truncateAfter(keep: LogIndex, removed: LogIndex[], records: [LogIndex, Uint8Array][]): void {
    // At the log start every record goes: what they hold before it is compacted, what is after it truncated.
    const atStart = keep === this.end.start.index;
    for (const key of this.db.getKeys({ start: atStart ? 1 : keep + 1, end: logEnd })) removed.push(key as LogIndex);
    if (atStart) return;
    const holder = this.recordHolding(keep);
    if (holder.at(-1)!.index > keep) records.push([holder[0]!.index, encodeEntries(holder.slice(0, keep - holder[0]!.index + 1))]);
  }

  /** The log start, or a stored entry after it. */
  private readPosition(index: LogIndex): LogPosition {
    const { start } = this.end;
    if (index === start.index) return start;
    this.checkNotCompacted(index);
    const holder = this.recordHolding(index);
    return holder[index - holder[0]!.index]!;
  }

  /** Compacted entries are never asked for (RaftStorage.compact): a read of one is a bug in the caller. */
  private checkNotCompacted(index: LogIndex): void {
    const { start } = this.end;
    assert(index > start.index, `log entry ${index} was asked for, but the log starts after entry ${start.index}`);
  }

  /** The entries of the record that holds entry `index`; a StorageError when none does. */
  private recordHolding(index: LogIndex): Entry[] {
    for (const { key, value } of this.db.getRange({ start: index, end: 0, reverse: true, limit: 1 })) {
      const entries = this.checked(decodeEntries(key, value));
      if (entries.at(-1)!.index >= index) return entries;
    }
    throw new StorageError(this.path, `log entry ${index} was asked for, but it is missing`);
  }

  /** Entries `from` to `to`, record by record as far as they are read. */
  private *storedEntries(from: LogIndex, to: LogIndex): Generator<Entry> {
    for (let next = from; next <= to; ) {
      for (const entry of this.recordHolding(next)) {
        if (entry.index < next) continue;
        if (entry.index > to) return;
        yield entry;
        next++;
      }
    }
  }

  /** The log's entries after `startIndex` from the last one back, record by record as far as they are read. */
  private *entriesNewestFirst(startIndex: LogIndex): Generator<Entry> {
    for (const { key, value } of this.db.getRange({ start: logEnd, end: 0, reverse: true, exclusiveStart: true })) {
      for (const entry of this.checked(decodeEntries(key, value)).reverse()) {
        if (entry.index <= startIndex) return;
        yield entry;
      }
    }
  }

  /** Chunk `chunk` of the stored snapshot, which the snapshot's record says there is. */
  private readChunk(chunk: number): Uint8Array {
    const stored = this.db.get(chunkKey(chunk));
    if (stored === undefined) throw new StorageError(this.path, `snapshot chunk ${chunk} is missing`);
    // A plain Uint8Array copy: LMDB hands out Buffers that may share memory with later reads.
    return new Uint8Array(stored);
  }

  /** The chunks of snapshot `meta`, read as they are iterated; it must not be replaced meanwhile. */
  private *chunksOf(meta: SnapshotMeta): Generator<Uint8Array> {
    for (let chunk = 0; ; chunk++) {
      const read = this.snapshotChunk(meta, chunk);
      assert(read !== undefined, `snapshot ${meta.index} was replaced while it was read`);
      yield read.data;
      if (read.last) return;
    }
  }

  /** What a decoder read, or a StorageError saying what is wrong with the record. */
  private checked<T>(decoded: T | string): T {
    if (typeof decoded === "string") throw new StorageError(this.path, decoded);
    return decoded;
  }

  /**
   * Runs a read; any failure becomes a StorageError, after which the storage
   * refuses every later write: a server that cannot read back its own log
   * must stop (docs/architecture.md §4).
   */
  private read<T>(run: () => T): T {
    if (this.closed) throw new StorageError(this.path, "storage is closed");
    return this.guarded(run);
  }

  /** A read by a save called before close(): the environment stays open until that save settles. */
  private guarded<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      // A bug in the caller (a read of a compacted entry) says nothing about the disk.
      if (error instanceof AssertionError) throw error;
      const failure =
        error instanceof StorageError ? error : new StorageError(this.path, `cannot read the LMDB environment (${describeError(error)})`, { cause: error });
      this.failure ??= failure;
      throw failure;
    }
  }
}

/** Opens (or creates) the environment in `directory`, with the settings every save relies on. */
function openEnvironment(directory: string): Database {
  try {
    return open<Uint8Array, number | string>({
      path: directory,
      noSubdir: false,
      encoding: "binary",
      keyEncoding: "ordered-binary",
      // Explicitly the safe settings: a commit resolves only once fsync'd.
      overlappingSync: false,
      noSync: false,
      noMetaSync: false,
      useWritemap: false,
      cache: false,
      compression: false,
      // Every write is in a batch or transaction of LmdbStorage's own. lmdb-js's batching of the writes made
      // in one event-loop turn also makes a promise of its own per turn, which nothing can hold, and which
      // rejects when a commit fails while later batches are queued: an unhandled rejection.
      eventTurnBatching: false,
    });
  } catch (cause) {
    throw new StorageError(directory, `cannot open the LMDB environment (${describeError(cause)})`, { cause });
  }
}

// Refuses a path that exists but cannot be an environment directory; a missing one is made fresh (by LMDB).
function checkDirectory(directory: string): "missing" | "existing" {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw new StorageError(directory, `cannot inspect the data directory (${describeError(error)})`, { cause: error });
  }
  if (!stats.isDirectory()) throw new StorageError(directory, "exists but is not a directory");
  try {
    fs.accessSync(directory, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw new StorageError(directory, `data directory is not readable and writable (${describeError(error)})`, {
      cause: error,
    });
  }
  return "existing";
}

function dataFileBytes(directory: string): number {
  const dataFile = path.join(directory, "data.mdb");
  try {
    return fs.statSync(dataFile).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw new StorageError(directory, `cannot inspect ${dataFile} (${describeError(error)})`, { cause: error });
  }
}

/**
 * Makes sure the environment belongs to `serverId`: checks its meta record,
 * or writes one (durably) into an environment that holds nothing at all.
 */
async function claim(db: Database, directory: string, serverId: NodeId): Promise<void> {
  const stored = db.get(metaKey);
  if (stored === undefined) {
    if (db.getKeysCount() > 0) throw new StorageError(directory, "holds records but no meta record; refusing to use it");
    await db.childTransaction(() => {
      db.putSync(metaKey, encodeMeta({ formatVersion: storageFormatVersion, serverId }));
    });
    return;
  }
  const meta = decodeMeta(stored);
  if (typeof meta === "string") throw new StorageError(directory, meta);
  if (meta.formatVersion === upgradableFormatVersion && meta.serverId === serverId) {
    await db.childTransaction(() => {
      db.putSync(metaKey, encodeMeta({ formatVersion: storageFormatVersion, serverId }));
    });
    return;
  }
  if (meta.formatVersion !== storageFormatVersion) {
    throw new StorageError(
      directory,
      `has storage format version ${meta.formatVersion}, this build reads only version ${storageFormatVersion}` +
        (meta.formatVersion < storageFormatVersion
          ? ` (an older zraft wrote it and there is no converter: move the directory aside to start this server empty)`
          : ""),
    );
  }
  if (meta.serverId !== serverId) {
    throw new StorageError(directory, `belongs to server ${meta.serverId}, not to server ${serverId}`);
  }
}

/** The record under `key`, decoded; undefined when there is none; a StorageError when it cannot be read. */
function readRecord<T>(db: Database, directory: string, key: string, decode: (value: unknown) => T | string): T | undefined {
  const stored = db.get(key);
  if (stored === undefined) return undefined;
  const decoded = decode(stored);
  if (typeof decoded === "string") throw new StorageError(directory, decoded);
  return decoded;
}

/**
 * Reads every record and checks the whole state (the same checks MemoryStorage
 * applies on each save), holding one record at a time: memory does not grow
 * with the log. Returns where the log ends.
 */
function verifyState(db: Database, directory: string): LogEnd {
  const start = readRecord(db, directory, logStartKey, decodeLogStart) ?? logStart;
  const snapshot = readRecord(db, directory, snapshotKey, decodeSnapshotRecord) ?? null;
  const log = new LogVerifier(directory, start, snapshot?.meta ?? logStart);
  let chunks = 0;
  for (const { key, value } of db.getRange()) {
    if (isChunkKey(key)) {
      if (key[1] !== chunks) throw new StorageError(directory, `snapshot chunk ${chunks} is missing`);
      chunks++;
    } else if (typeof key === "number") {
      log.add(key, value);
    } else if (!recordKeys.has(key)) {
      throw new StorageError(directory, `holds an unexpected record ${JSON.stringify(key)}`);
    }
  }
  if (chunks !== (snapshot?.chunks ?? 0)) {
    throw new StorageError(directory, `holds ${chunks} snapshot chunks, but its snapshot record says ${snapshot?.chunks ?? 0}`);
  }
  if (snapshot === null && start.index > 0) {
    throw new StorageError(directory, `the log starts after entry ${start.index}, but there is no snapshot of the entries before`);
  }
  log.checkSnapshot();
  const hardState = readRecord(db, directory, hardStateKey, decodeHardState) ?? emptyHardState;
  const hardStateProblem = findHardStateProblem(hardState, log.last.index);
  if (hardStateProblem !== null) throw new StorageError(directory, hardStateProblem);
  return { start, last: log.last, open: log.open, hardState, snapshot };
}

/**
 * Checks the log records in order: each continues the one before, the first
 * continues the log start, and the snapshot ends at a position of the log
 * (dissertation §5.1: at or after the log start, at or before the last entry).
 */
class LogVerifier {
  last: LogPosition;
  open: readonly Entry[] | null = null;
  // The term the log holds at the snapshot's index, once a record showed it.
  private snapshotTermInLog: Term | null;

  constructor(
    private readonly directory: string,
    private readonly start: LogPosition,
    private readonly snapshot: SnapshotMeta,
  ) {
    this.last = start;
    this.snapshotTermInLog = snapshot.index === start.index ? start.term : null;
  }

  add(key: number, value: unknown): void {
    const entries = decodeEntries(key, value);
    if (typeof entries === "string") throw new StorageError(this.directory, entries);
    const logProblem = findAppendProblem(this.last, this.last === this.start ? this.afterStart(entries) : entries);
    if (logProblem !== null) throw new StorageError(this.directory, `log is inconsistent: ${logProblem}`);
    const atSnapshot = entries[this.snapshot.index - key];
    if (atSnapshot !== undefined) this.snapshotTermInLog = atSnapshot.term;
    this.last = positionOf(entries.at(-1)!);
    this.open = openEntries(entries, value as Uint8Array);
  }

  checkSnapshot(): void {
    const { index, term } = this.snapshot;
    if (index < this.start.index || index > this.last.index) {
      throw new StorageError(this.directory, `the snapshot ends at entry ${index}, outside the log (${this.start.index} to ${this.last.index})`);
    }
    if (this.snapshotTermInLog !== term) {
      throw new StorageError(this.directory, `the snapshot ends at entry ${index} of term ${term}, but the log has term ${String(this.snapshotTermInLog)} there`);
    }
  }

  /** The entries of the first record after the log start: compaction leaves a record that straddles it whole. */
  private afterStart(entries: readonly Entry[]): readonly Entry[] {
    const { index, term } = this.start;
    const first = entries[0]!.index;
    if (first > index) return entries;
    const atStart = entries[index - first];
    if (atStart === undefined || atStart === entries.at(-1)) {
      throw new StorageError(this.directory, `log record ${first} lies wholly at or before the log start ${index}`);
    }
    if (atStart.term !== term) {
      throw new StorageError(this.directory, `log record ${first} has term ${atStart.term} at entry ${index}, the log start has term ${term}`);
    }
    return entries.slice(index - first + 1);
  }
}
