import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { AssertionError, assert } from "../base/assert.ts";
import { takeWithin } from "../raft/index.ts";
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
import { LmdbStorage } from "./lmdb-storage.ts";
import { findAppendProblem, findHardStateProblem } from "./raft-state-check.ts";
import { StorageError, StorageWriteError, describeError } from "./storage-error.ts";
import type { RaftState, RaftStorage, StoredSnapshot, WriteMode } from "./storage.ts";
import { WalFile, recordsBytes } from "./wal-file.ts";
import { WriteOrder } from "./write-order.ts";
import { encodeWalPayload } from "./wal-records.ts";
import type { WalRecord } from "./wal-records.ts";

/** The write-ahead log's file, in the server's LMDB directory. */
export const walFileName = "wal.log";

export interface WalLimits {
  /** The log file's size: a batch that does not fit sends everything to LMDB, and the file starts over. */
  readonly capacityBytes: number;
  /** Records written to the log file and not yet to LMDB, past which they are copied there in the background. */
  readonly checkpointBytes: number;
  /**
   * The largest write that runs on the calling thread (as the write mode
   * says, storage.ts); larger ones go to the pool, since the thread has work
   * to do while a large batch is written (docs/architecture.md §4). 0 sends
   * every write to the pool.
   */
  readonly inlineWriteBytesMax: number;
  /**
   * A write to the log file that took longer is slow: in the
   * "inline-single" mode (a leader's) the writes after it go to the pool
   * until one is not, so that a disk turning slow blocks a leader's thread,
   * and with it its heartbeats, for one write at most (docs/architecture.md §4).
   */
  readonly slowWriteMs: number;
}

/** About the bytes of a save of one or a few small entries: what one client's writes make. */
export const walLimitsDefaults: WalLimits = { capacityBytes: 8 << 20, checkpointBytes: 256 << 10, inlineWriteBytesMax: 2048, slowWriteMs: 10 };

/** A save waiting for its write to the log file. */
interface QueuedSave {
  readonly record: WalRecord;
  readonly payload: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The saves of `records` as one: their entries in order, and the last hard state among them. */
function combine(records: readonly WalRecord[]): WalRecord {
  let hardState: HardState | null = null;
  const entries: Entry[] = [];
  for (const record of records) {
    hardState = record.hardState ?? hardState;
    for (const entry of record.entries) entries.push(entry);
  }
  return { hardState, entries };
}

/**
 * The durable Raft state of one server: LMDB (LmdbStorage) behind a
 * write-ahead log, in the manner of etcd's WAL in front of its store.
 *
 * A save that appends (every save but a follower's repair of a conflicting
 * suffix or a received snapshot) is one record in the log file, written
 * through an O_DSYNC descriptor: one device flush, where an LMDB commit
 * flushes its data pages and then its meta page. On the machine of the
 * README's benchmarks, with five servers saving at once, a save took 0.4 ms
 * this way against 1.0 to 1.5 ms as an LMDB commit. Saves called while a
 * write is in flight go out together in the next one (group commit).
 *
 * Written records are copied to LMDB in the background (a checkpoint), as one
 * LMDB save of all of them, once they pass `checkpointBytes`; until that
 * resolves their entries are read from memory. When a batch no longer fits in
 * the file, everything written goes to LMDB and the file starts a new
 * generation from its start (wal-records.ts), which the batch begins: the
 * file never grows (a batch larger than the whole file goes to LMDB). The rare
 * writes that do more than append (a truncating save, a received snapshot,
 * saveSnapshot, compact) first bring LMDB up to date and start a new
 * generation, then run on LMDB alone; the saves called after one wait for it.
 *
 * At open, the records of the file's generation are saved to LMDB as one
 * save (which rewrites the entries a checkpoint had already copied), and a
 * new generation starts. A record torn by a crash was never acknowledged: it
 * ends the log. A record whose checksum matches but which does not read, or
 * does not continue LMDB's log, is refused with a StorageError.
 *
 * Invariant: LMDB holds the state at the start of the file's generation plus
 * a prefix of its records (checkpoints copy only records already written, in
 * order), so replaying the generation's records over it gives the state the
 * last acknowledged save left.
 */
export class WalStorage implements RaftStorage, LogStorage {
  /** Saves called and not yet written to the log file, in call order. */
  private queued: QueuedSave[] = [];
  /** Records in the log file and not yet handed to LMDB. */
  private unchecked: WalRecord[] = [];
  private uncheckedBytes = 0;
  /** The entries saved whose checkpoint has not resolved, so not readable from LMDB yet, in order. */
  private recent: Entry[] = [];
  /** The write loop, while it runs. */
  private writing: Promise<void> | null = null;
  /** Settles when the last checkpoint handed to LMDB has. */
  private checkpointed: Promise<void> = Promise.resolve();
  /** The order of the writes: one that runs on LMDB alone waits for those before it, and those after it for it. */
  private readonly writes = new WriteOrder();
  /** The last entry and the hard state, as the writes called so far leave them. */
  private last: LogPosition;
  private hardState: HardState;
  private writeMode: WriteMode = "inline-single";
  /** Whether the last write to the log file took longer than WalLimits.slowWriteMs. */
  private lastWriteSlow = false;
  private failure: unknown = null;
  private closed = false;

  private constructor(
    private readonly lmdb: LmdbStorage,
    private readonly wal: WalFile,
    private readonly limits: WalLimits,
  ) {
    ({ last: this.last, hardState: this.hardState } = lmdb.written);
  }

  /**
   * Opens (or creates) the storage of server `serverId` under `dataDir`
   * (LmdbStorage.open's directory, with the log file in it), and brings
   * LMDB up to date from the log.
   *
   * @throws StorageError when the directory or the log cannot be used or
   *   holds state that cannot be trusted
   */
  static async open(dataDir: string, serverId: NodeId, limits: WalLimits = walLimitsDefaults): Promise<WalStorage> {
    const lmdb = await LmdbStorage.open(dataDir, serverId);
    try {
      const { wal, records } = WalFile.open(path.join(lmdb.path, walFileName), limits.capacityBytes);
      try {
        await replay(lmdb, wal.path, records);
        await wal.reset();
      } catch (error) {
        wal.close();
        throw error;
      }
      return new WalStorage(lmdb, wal, limits);
    } catch (error) {
      await lmdb.close();
      throw error instanceof StorageError ? error : new StorageError(lmdb.path, `cannot use the write-ahead log (${describeError(error)})`, { cause: error });
    }
  }

  /** The LMDB environment's directory, which holds the log file too. */
  get path(): string {
    return this.lmdb.path;
  }

  async load(tailBytesMax?: number): Promise<RaftState> {
    await this.settled();
    return this.lmdb.load(tailBytesMax);
  }

  term(index: LogIndex): Term {
    const first = this.recent[0]?.index;
    if (first !== undefined && index >= first) return this.recentEntry(index).term;
    return this.lmdb.term(index);
  }

  entries(from: LogIndex, to: LogIndex, bytesMax: number): readonly Entry[] {
    const first = this.recent[0]?.index ?? to + 1;
    if (from >= first) return takeWithin(this.recentEntries(from, to), bytesMax);
    const stored = this.lmdb.entries(from, Math.min(to, first - 1), bytesMax);
    if (to < first || stored.at(-1)!.index < first - 1) return stored;
    return takeWithin([...stored, ...this.recentEntries(first, to)], bytesMax);
  }

  snapshotChunk(snapshot: SnapshotMeta, chunk: number): SnapshotChunk | undefined {
    return this.lmdb.snapshotChunk(snapshot, chunk);
  }

  readSnapshot(): StoredSnapshot | null {
    return this.lmdb.readSnapshot();
  }

  /**
   * An append is written to the log file, a truncation or a received
   * snapshot to LMDB (see the class). Resolves once on disk; saves are
   * applied in call order. Rejects with AssertionError (and writes nothing)
   * when the result would not be a valid log; after any other failure every
   * later write is refused.
   */
  save(hardState: HardState | null, entries: readonly Entry[], snapshot?: ReceivedSnapshot): Promise<void> {
    // Whether it appends is known only once the writes before it have run.
    const appends = (): boolean => snapshot === undefined && (entries[0]?.index ?? Number.POSITIVE_INFINITY) > this.last.index;
    return this.queue(!appends(), () => (appends() ? this.append(hardState, entries) : this.onLmdb(() => this.lmdb.save(hardState, entries, snapshot))));
  }

  /** Applies to the log file's writes; LMDB's (checkpoints, the writes on LMDB alone) run on its own thread. */
  setWriteMode(mode: WriteMode): void {
    this.writeMode = mode;
  }

  saveSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<void> {
    return this.queue(true, () => this.onLmdb(() => this.lmdb.saveSnapshot(meta, chunks)));
  }

  compact(through: LogIndex): Promise<void> {
    return this.queue(true, () => this.onLmdb(() => this.lmdb.compact(through)));
  }

  /** LmdbStorage.remap, once LMDB holds every save called so far. */
  async remap(): Promise<void> {
    await this.settled();
    await this.lmdb.remap();
  }

  /** Waits for the writes called so far, copies the log to LMDB and closes both. Later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.settled().catch(() => undefined);
    } finally {
      this.wal.close();
      await this.lmdb.close();
    }
  }

  /** Once every write called so far has settled and LMDB holds them all. */
  private async settled(): Promise<void> {
    await this.writes.settled;
    await this.writing;
    this.checkNotFailed();
    await this.checkpoint();
  }

  private checkNotFailed(): void {
    // A checkpoint that failed in the background: the next write reports it as it was.
    if (this.failure instanceof StorageWriteError) throw this.failure;
    if (this.failure !== null) {
      throw new StorageError(this.lmdb.path, `an earlier read or write failed (${describeError(this.failure)}); refusing to write more`, { cause: this.failure });
    }
  }

  /**
   * Queues a write (WriteOrder): at once when it runs on the log file and
   * none waits before it. Maps its failure as save() says.
   */
  private queue(onLmdb: boolean, write: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError(this.lmdb.path, "storage is closed"));
    try {
      this.checkNotFailed();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writes.queue(onLmdb, write, () => this.checkNotFailed(), async (error: unknown) => {
      if (error instanceof AssertionError || error instanceof StorageError) throw error;
      this.failure ??= error;
      const code = (error as { code?: unknown } | null)?.code;
      throw new StorageWriteError(this.lmdb.path, `writing to disk failed (${describeError(error)}${code === undefined ? "" : `, code ${String(code)}`})`, { cause: error });
    });
  }

  /** Checks an append against the state the earlier writes leave, and queues its record. */
  private append(hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    const appendProblem = findAppendProblem(this.last, entries);
    assert(appendProblem === null, `save: ${appendProblem ?? ""}`);
    const nextHardState = hardState ?? this.hardState;
    const last = entries.at(-1) ?? this.last;
    const hardStateProblem = findHardStateProblem(nextHardState, last.index);
    assert(hardStateProblem === null, `save: ${hardStateProblem ?? ""}`);
    this.last = { index: last.index, term: last.term };
    this.hardState = nextHardState;
    for (const entry of entries) this.recent.push(entry);
    const saved = new Promise<void>((resolve, reject) => {
      this.queued.push({ record: { hardState, entries }, payload: encodeWalPayload(hardState, entries), resolve, reject });
    });
    // Started a microtask later, so that every save of this turn's synchronous run goes in its first write.
    this.writing ??= Promise.resolve().then(() => this.writeQueued());
    return saved;
  }

  /**
   * Writes the queued saves, all those queued meanwhile in one write, until
   * none is left. It lets go of `writing` in the same step as it finds the
   * queue empty, so that a save queued after that starts the next loop.
   */
  private async writeQueued(): Promise<void> {
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        const records = batch.map((save) => save.record);
        try {
          // A checkpoint in the background failed: nothing more is written.
          this.checkNotFailed();
          const payloads = batch.map((save) => save.payload);
          if (!this.wal.fits(payloads)) {
            // The file is full: LMDB takes what it holds, and it starts over. The batch is not in LMDB
            // before the new generation starts: a replay of the old one would cut it off again.
            await this.checkpoint();
            await this.wal.reset();
          }
          if (this.wal.fits(payloads)) {
            const started = performance.now();
            await this.wal.append(payloads, this.inlineBytesMaxFor(records));
            this.lastWriteSlow = performance.now() - started > this.limits.slowWriteMs;
            this.unchecked.push(...records);
            this.uncheckedBytes += recordsBytes(payloads);
            if (this.uncheckedBytes >= this.limits.checkpointBytes) void this.checkpoint().catch(() => undefined);
          } else {
            // Larger than the whole file: straight to LMDB, which then holds the new generation's start.
            this.unchecked.push(...records);
            await this.checkpoint();
          }
        } catch (error) {
          this.failure ??= error;
          for (const save of [...batch, ...this.queued]) save.reject(error);
          this.queued = [];
          return;
        }
        for (const save of batch) save.resolve();
      }
    } finally {
      this.writing = null;
    }
  }

  /** The largest write of these records to run on the calling thread, as the write mode says. */
  private inlineBytesMaxFor(records: readonly WalRecord[]): number {
    if (this.writeMode === "inline-single" && (this.lastWriteSlow || records.reduce((count, record) => count + record.entries.length, 0) > 1)) return 0;
    return this.limits.inlineWriteBytesMax;
  }

  /**
   * Hands the records written so far to LMDB as one save (after any
   * checkpoint before it: LmdbStorage applies saves in call order); resolves
   * when LMDB has them on disk, and their entries are read from there on.
   */
  private checkpoint(): Promise<void> {
    const records = this.unchecked;
    this.unchecked = [];
    this.uncheckedBytes = 0;
    if (records.length === 0) return this.checkpointed;
    const { hardState, entries } = combine(records);
    const through = entries.at(-1)?.index;
    const stored = this.lmdb.save(hardState, entries).then(() => {
      if (through !== undefined) this.forgetRecent(through);
    });
    this.checkpointed = stored.catch((error: unknown) => {
      this.failure ??= error;
      throw error;
    });
    return this.checkpointed;
  }

  /**
   * A write that runs on LMDB alone: once every save before it is in LMDB,
   * a new generation of the log file starts (a replay after a crash must
   * not apply records from before this write over its result); then the
   * write, and the end of the log is LMDB's.
   */
  private async onLmdb(write: () => Promise<void>): Promise<void> {
    await this.writing;
    this.checkNotFailed();
    await this.checkpoint();
    await this.wal.reset();
    await write();
    ({ last: this.last, hardState: this.hardState } = this.lmdb.written);
  }

  private forgetRecent(through: LogIndex): void {
    const first = this.recent[0]?.index;
    if (first !== undefined && through >= first) this.recent = this.recent.slice(through - first + 1);
  }

  private recentEntry(index: LogIndex): Entry {
    const entry = this.recent[index - this.recent[0]!.index];
    assert(entry !== undefined, `log entry ${index} was asked for, beyond the last saved entry ${this.last.index}`);
    return entry;
  }

  private *recentEntries(from: LogIndex, to: LogIndex): Generator<Entry> {
    for (let index = from; index <= to; index++) yield this.recentEntry(index);
  }
}

/**
 * Saves the records of the log file's generation to LMDB as one save: LMDB
 * holds the generation's start and a prefix of its records, so this leaves
 * it as the last of them left the state.
 */
async function replay(lmdb: LmdbStorage, walPath: string, records: readonly WalRecord[]): Promise<void> {
  if (records.length === 0) return;
  const { hardState, entries } = combine(records);
  try {
    await lmdb.save(hardState, entries);
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    throw new StorageError(walPath, `its records do not continue the log stored in LMDB (${error.message})`, { cause: error });
  }
}
