import type { Entry, HardState, LogIndex, LogPosition, ReceivedSnapshot, SnapshotMeta } from "../raft/index.ts";

/** What a server finds on its disk at start-up. */
export interface RaftState {
  readonly hardState: HardState;
  /**
   * The end of the durable log, in order: its last entries whose entryBytes
   * fit in the bound load() was given (at least the last one; all of them
   * when they fit). The core reads the ones before through LogStorage.
   */
  readonly entries: readonly Entry[];
  /**
   * The position just before the first stored entry: where compaction or an
   * installed snapshot left the start of the log (logStart when neither
   * happened). `entries` follow it when the whole log was loaded.
   */
  readonly logStart: LogPosition;
  /** Where the stored snapshot ends (logStart, the constant, when there is none). */
  readonly snapshot: SnapshotMeta;
}

/** A stored snapshot: where it ends and its image. */
export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  /** The image's chunks in order, read from storage as they are iterated. */
  chunks(): Iterable<Uint8Array>;
}

/**
 * Which saves' writes run on the calling thread, which waits for the disk,
 * instead of libuv's thread pool, which lets it go on meanwhile; either way
 * only a small write does (WalLimits.inlineWriteBytesMax). On the calling
 * thread a save costs two thread hand-offs less.
 *
 * - "inline": every small write. The choice for a follower or a candidate,
 *   whose next step waits for the save anyway.
 * - "inline-single": a small write of at most one entry, while writes are
 *   fast; a batch of several, and every write after a slow one until one
 *   is fast again, goes to the pool. The choice for a leader: several
 *   entries in one batch mean several clients, whose proposals and
 *   acknowledgements its thread handles while its disk works; a lone entry
 *   means nothing else is waiting for it; and a slow disk must not hold up
 *   its heartbeats for more than one write (docs/architecture.md §4).
 */
export type WriteMode = "inline" | "inline-single";

/**
 * Durable Raft state for one server (hashicorp/raft's LogStore + StableStore
 * in one). Errors are fatal: a server that cannot persist must stop. The
 * implementations are also the core's LogStorage, its synchronous reads of
 * the log; a failed read is as fatal as a failed write.
 */
export interface RaftStorage {
  /**
   * The hard state and the tail of the log, at most `tailBytesMax` of it
   * (see RaftState.entries); the whole log when no bound is given (tests and
   * tools).
   */
  load(tailBytesMax?: number): Promise<RaftState>;
  /**
   * Writes `hardState` (when not null) and `entries` atomically. When
   * `entries[0].index` is at or below the last stored index, the stored log
   * is first truncated from that index. With `snapshot` (one received from a
   * leader), the stored log and snapshot are first replaced by it, in the
   * same atomic write: the log is then empty after `snapshot.meta`
   * (logStart = snapshot.meta) and `entries` follow it. Resolves only once the write is on
   * disk (fsync'd): callers send messages and answer clients after it.
   */
  save(hardState: HardState | null, entries: readonly Entry[], snapshot?: ReceivedSnapshot): Promise<void>;
  /**
   * Stores a snapshot this server took of its own state machine (Raft
   * dissertation ch. 5), in place of the stored one. `meta` is an entry of
   * the stored log (or the stored snapshot's own position). Leaves the log as
   * it is: compact() drops entries once the core no longer reads them.
   * Resolves once the snapshot is on disk.
   */
  saveSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<void>;
  /**
   * Drops the log's entries up to `through`, which is at or below the stored
   * snapshot's index: logStart becomes entry `through`. Entries at or below
   * `through` are never read again.
   */
  compact(through: LogIndex): Promise<void>;
  /** How later saves wait for the disk; an implementation without the choice ignores it. */
  setWriteMode(mode: WriteMode): void;
  /** The stored snapshot, or null when there is none (a restart restores the state machine from it). */
  readSnapshot(): StoredSnapshot | null;
  close(): Promise<void>;
}
