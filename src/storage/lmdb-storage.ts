import * as fs from "node:fs";
import * as path from "node:path";
import { open } from "lmdb";
import type { RootDatabase } from "lmdb";
import { AssertionError, assert } from "../base/assert.ts";
import { emptyHardState, logStart, takeWithin } from "../raft/index.ts";
import type { Entry, HardState, LogIndex, LogPosition, LogStorage, NodeId, Term } from "../raft/index.ts";
import {
  decodeEntries,
  decodeHardState,
  decodeMeta,
  encodeEntries,
  encodeHardState,
  encodeMeta,
  sealedRecordBytes,
  storageFormatVersion,
} from "./lmdb-records.ts";
import { probeLmdbEnvironment } from "./lmdb-probe.ts";
import { findAppendProblem, findHardStateProblem } from "./raft-state-check.ts";
import { StorageError, StorageWriteError } from "./storage-error.ts";
import type { RaftState, RaftStorage } from "./storage.ts";

// One database holds everything. The log is one record per save (lmdb-records.ts), keyed by the index of
// its first entry (numbers), which LMDB's ordered-binary key encoding sorts numerically and before every
// string key, so the log is one range.
const metaKey = "meta";
const hardStateKey = "hardState";
const recordKeys: ReadonlySet<unknown> = new Set([metaKey, hardStateKey]);
// The smallest string key: the numeric range [1, logEnd) is exactly the log.
const logEnd = "";

type Database = RootDatabase<Uint8Array, number | string>;

/** The stored state as the saves called so far leave it, kept so that a save that appends reads nothing. */
interface LogEnd {
  readonly last: LogPosition;
  /** The entries of the last record while saves may still add to it (under sealedRecordBytes), else null. */
  readonly open: readonly Entry[] | null;
  readonly hardState: HardState;
}

/** `entries` when their record is still open (see LogEnd.open). */
function openEntries(entries: readonly Entry[], record: Uint8Array): readonly Entry[] | null {
  return record.length < sealedRecordBytes ? entries : null;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What made a write fail. lmdb-js rejects a failed commit with "Commit
 * failed" and hands the system's error (ENOSPC, EIO …) over separately, as
 * a promise that rejects with it.
 */
async function writeFailureOf(error: unknown): Promise<string> {
  const commitError: unknown = (error as { commitError?: unknown } | null)?.commitError;
  if (!(commitError instanceof Promise)) return describe(error);
  const cause: unknown = await commitError.then(
    () => error,
    (reason: unknown) => reason,
  );
  const code = (cause as { code?: unknown } | null)?.code;
  return `${describe(cause)}${code === undefined ? "" : `, code ${String(code)}`}`;
}

/**
 * The durable Raft state of one server in its own LMDB environment at
 * `<dataDir>/server-<id>/`.
 *
 * Durability: `overlappingSync` is off, so LMDB fsyncs inside each commit, and
 * a write's promise resolves only after that commit (lmdb-js write.js resolves
 * on TXN_COMMITTED, which writer.cpp sets after mdb_txn_commit returns). The
 * commit runs on lmdb-js's writer thread, so the event loop stays free while
 * the disk syncs. test/storage/lmdb-durability.test.ts checks the order of
 * the syscalls.
 *
 * A save that only appends (every save but a follower's repair of a
 * conflicting suffix) is worked out on the calling thread from the state the
 * saves before it leave (LogEnd) and handed to the writer thread as one
 * batch: one trip there and back. A transaction whose callback runs inside
 * it costs two more trips between the threads, each a wake-up on a busy
 * machine, and the followers' saves are on every write's path. A save that
 * truncates reads the log, so it first waits for the saves before it, and
 * the saves after it wait for it.
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
  // Settles when the last queued save has; close() and load() wait for it.
  private lastSave: Promise<unknown> = Promise.resolve();
  // While a save that truncates waits for the saves before it: every later save waits behind it.
  private waiting: Promise<unknown> | null = null;
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
        : new StorageError(directory, `cannot read the LMDB environment (${describe(error)})`, { cause: error });
    }
  }

  /** Reads back and checks the hard state and the log's tail, after any save already called has settled. */
  async load(tailBytesMax = Number.POSITIVE_INFINITY): Promise<RaftState> {
    await this.lastSave;
    return this.read(() => {
      const tail = takeWithin(this.entriesNewestFirst(), tailBytesMax).reverse();
      const first = tail[0];
      const logProblem = first === undefined ? null : findAppendProblem({ index: first.index - 1, term: 0 }, tail);
      if (logProblem !== null) throw new StorageError(this.path, `log is inconsistent: ${logProblem}`);
      const hardState = readHardState(this.db, this.path);
      const hardStateProblem = findHardStateProblem(hardState, tail.at(-1)?.index ?? 0);
      if (hardStateProblem !== null) throw new StorageError(this.path, hardStateProblem);
      return { hardState, entries: tail };
    });
  }

  term(index: LogIndex): Term {
    return this.read(() => this.readPosition(index).term);
  }

  entries(from: LogIndex, to: LogIndex, bytesMax: number): readonly Entry[] {
    return this.read(() => takeWithin(this.storedEntries(from, to), bytesMax));
  }

  /**
   * One LMDB transaction: truncate the log from `entries[0].index` when that
   * is at or below the last stored index, append `entries`, store `hardState`
   * when not null. Resolves once it is fsync'd. Saves are applied in call
   * order, so callers may queue several. Rejects with AssertionError (and
   * writes nothing) when the result would not be a valid log; after any other
   * failure the storage refuses every later write, since a server that cannot
   * persist must stop.
   */
  save(hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    try {
      this.checkUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    const first = entries[0];
    const truncates = first !== undefined && first.index <= this.end.last.index;
    let written: Promise<unknown>;
    if (this.waiting === null && !truncates) {
      try {
        written = this.write(hardState, entries);
      } catch (error) {
        // Refused in call order too: a later save that waits for lastSave must not overtake the saves still in flight.
        written = this.lastSave.then(() => Promise.reject(error));
      }
    } else {
      // Called before close(), so it is written although close() may have begun meanwhile.
      const waited = this.lastSave.then(() => {
        this.checkNotFailed();
        return this.write(hardState, entries);
      });
      this.waiting = waited;
      void waited.finally(() => {
        if (this.waiting === waited) this.waiting = null;
      }).catch(() => undefined);
      written = waited;
    }
    const saved = written.then(
      () => undefined,
      async (error: unknown) => {
        // A refused save aborted its transaction cleanly; any other failure leaves the disk in doubt.
        if (error instanceof AssertionError) throw error;
        this.failure ??= error;
        throw new StorageWriteError(this.path, `writing to disk failed (${await writeFailureOf(error)})`, { cause: error });
      },
    );
    this.lastSave = saved.catch(() => undefined);
    return saved;
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
    await this.lastSave;
    this.checkUsable();
    await this.db.close();
    this.db = openEnvironment(this.path);
  }

  /** Waits for queued saves, then closes the environment. Later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lastSave;
    await this.db.close();
  }

  private checkUsable(): void {
    if (this.closed) throw new StorageError(this.path, "storage is closed");
    this.checkNotFailed();
  }

  private checkNotFailed(): void {
    if (this.failure !== null) {
      throw new StorageError(this.path, `an earlier read or write failed (${describe(this.failure)}); refusing to write more`, {
        cause: this.failure,
      });
    }
  }

  /**
   * Checks a save against LogEnd and hands it to LMDB as one batch (one
   * transaction). Throws AssertionError, having written nothing, when the
   * result would not be a valid log. Reads the log only when it truncates,
   * and is then called only once every earlier save has settled.
   */
  private write(hardState: HardState | null, entries: readonly Entry[]): Promise<unknown> {
    const { last, open } = this.end;
    const lastIndex = last.index;
    const first = entries[0];
    const keep = first === undefined ? lastIndex : Math.min(first.index - 1, lastIndex);
    assert(keep >= 0, `save: first entry has invalid index ${String(first?.index)}`);
    const kept = keep === lastIndex ? last : this.guarded(() => this.readPosition(keep));
    const appendProblem = findAppendProblem(kept, entries);
    assert(appendProblem === null, `save: ${appendProblem ?? ""}`);
    const nextHardState = hardState ?? this.end.hardState;
    const hardStateProblem = findHardStateProblem(nextHardState, keep + entries.length);
    assert(hardStateProblem === null, `save: ${hardStateProblem ?? ""}`);

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
    const { index, term } = entries.at(-1) ?? kept;
    this.end = { last: { index, term }, open: nextOpen, hardState: nextHardState };
    return written;
  }

  /** Lists the records after `keep` for removal, and the one that holds `keep`, cut back to it, for writing. */
  private truncateAfter(keep: LogIndex, removed: LogIndex[], records: [LogIndex, Uint8Array][]): void {
    for (const key of this.db.getKeys({ start: keep + 1, end: logEnd })) removed.push(key as LogIndex);
    if (keep === 0) return;
    const holder = this.recordHolding(keep);
    if (holder.at(-1)!.index > keep) records.push([holder[0]!.index, encodeEntries(holder.slice(0, keep - holder[0]!.index + 1))]);
  }

  private readPosition(index: LogIndex): LogPosition {
    if (index === 0) return logStart;
    const holder = this.recordHolding(index);
    return holder[index - holder[0]!.index]!;
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

  /** The log's entries from the last one back, record by record as far as they are read. */
  private *entriesNewestFirst(): Generator<Entry> {
    for (const { key, value } of this.db.getRange({ start: logEnd, end: 0, reverse: true, exclusiveStart: true })) {
      yield* this.checked(decodeEntries(key, value)).reverse();
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
      const failure =
        error instanceof StorageError ? error : new StorageError(this.path, `cannot read the LMDB environment (${describe(error)})`, { cause: error });
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
    });
  } catch (cause) {
    throw new StorageError(directory, `cannot open the LMDB environment (${describe(cause)})`, { cause });
  }
}

// Refuses a path that exists but cannot be an environment directory; a missing one is made fresh (by LMDB).
function checkDirectory(directory: string): "missing" | "existing" {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw new StorageError(directory, `cannot inspect the data directory (${describe(error)})`, { cause: error });
  }
  if (!stats.isDirectory()) throw new StorageError(directory, "exists but is not a directory");
  try {
    fs.accessSync(directory, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw new StorageError(directory, `data directory is not readable and writable (${describe(error)})`, {
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
    throw new StorageError(directory, `cannot inspect ${dataFile} (${describe(error)})`, { cause: error });
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

function readHardState(db: Database, directory: string): HardState {
  const stored = db.get(hardStateKey);
  if (stored === undefined) return emptyHardState;
  const hardState = decodeHardState(stored);
  if (typeof hardState === "string") throw new StorageError(directory, hardState);
  return hardState;
}

/**
 * Reads every record and checks the whole state (the same checks MemoryStorage
 * applies on each save), holding one record at a time: memory does not grow
 * with the log. Returns where the log ends.
 */
function verifyState(db: Database, directory: string): LogEnd {
  let previous: LogPosition = logStart;
  let open: readonly Entry[] | null = null;
  for (const { key, value } of db.getRange()) {
    if (recordKeys.has(key)) continue;
    if (typeof key !== "number") throw new StorageError(directory, `holds an unexpected record ${JSON.stringify(key)}`);
    const entries = decodeEntries(key, value);
    if (typeof entries === "string") throw new StorageError(directory, entries);
    const logProblem = findAppendProblem(previous, entries);
    if (logProblem !== null) throw new StorageError(directory, `log is inconsistent: ${logProblem}`);
    previous = entries.at(-1)!;
    open = openEntries(entries, value as Uint8Array);
  }
  const hardState = readHardState(db, directory);
  const hardStateProblem = findHardStateProblem(hardState, previous.index);
  if (hardStateProblem !== null) throw new StorageError(directory, hardStateProblem);
  return { last: { index: previous.index, term: previous.term }, open, hardState };
}
