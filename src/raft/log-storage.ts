import type { Entry, LogIndex, SnapshotMeta, Term } from "./types.ts";

/**
 * The durable log as the core reads it back, in the manner of etcd-io/raft's
 * Storage: the core keeps only a bounded tail of its log in memory
 * (RaftConfig.logTailBytesMax) and reads older entries through this when it
 * needs them (a lagging follower's AppendEntries, a term lookup, committed
 * entries to apply after a restart). docs/architecture.md §2.
 *
 * Synchronous and read-only: the core stays free of I/O and only calls what
 * it is given. It asks only for entries at or below its durable, applied
 * mark, which the runtime saved before it called advance(), so every entry
 * asked for is on storage. An implementation that cannot read one throws;
 * the error is the storage's, not the core's, and the server stops (as it
 * does when a save fails, docs/architecture.md §4).
 */
export interface LogStorage {
  /** The term of entry `index` (index >= 1). */
  term(index: LogIndex): Term;
  /** Entries `from` to `to` (inclusive, from <= to) in order, bounded as takeWithin bounds them. */
  entries(from: LogIndex, to: LogIndex, bytesMax: number): readonly Entry[];
  /**
   * Chunk `chunk` (0-based) of the stored snapshot, for InstallSnapshot;
   * undefined when the stored snapshot is no longer `snapshot` (a newer one
   * replaced it) or has no such chunk.
   */
  snapshotChunk(snapshot: SnapshotMeta, chunk: number): SnapshotChunk | undefined;
}

/** One chunk of a stored snapshot. */
export interface SnapshotChunk {
  readonly data: Uint8Array;
  /** Whether it is the snapshot's final chunk. */
  readonly last: boolean;
}

/**
 * What one entry counts for against the byte bounds: an AppendEntries'
 * (bytesPerAppendMax), a read from storage's, and the in-memory tail's
 * (logTailBytesMax). Its data, plus what an entry costs in an AppendEntries
 * besides its data: index, term, type, framing.
 */
export function entryBytes(entry: Entry): number {
  return entry.data.length + entryOverheadBytes;
}

const entryOverheadBytes = 24;

/**
 * The first of `entries` while their entryBytes total stays within
 * `bytesMax`, and at least one: how every batch of the log is bounded (an
 * AppendEntries, a read from LogStorage, the tail loaded at start-up). Reads
 * `entries` no further than it takes.
 */
export function takeWithin(entries: Iterable<Entry>, bytesMax: number): Entry[] {
  const taken: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    bytes += entryBytes(entry);
    if (taken.length > 0 && bytes > bytesMax) break;
    taken.push(entry);
  }
  return taken;
}
