/**
 * Chunk N of this server's stored snapshot, for the admin action `backup`
 * (docs/protocol.md §4). A stored snapshot's chunks can only be read in
 * order from the first, so a backup that fetched chunk after chunk would
 * read all the ones before again for each. This keeps the reading where the
 * last request left it, one chunk ahead (to tell whether the chunk asked for
 * is the last), and starts over only when an earlier chunk is asked for or a
 * newer snapshot has replaced the stored one.
 */
import { sameMeta, type SnapshotMeta } from "../raft/index.ts";

/** A stored snapshot as the runtime hands it out (RaftServer.storedSnapshot). */
export interface StoredImage {
  readonly meta: SnapshotMeta;
  chunks(): Iterable<Uint8Array>;
}

export type ChunkLookup =
  | { readonly kind: "chunk"; readonly meta: SnapshotMeta; readonly data: Uint8Array; readonly last: boolean }
  | { readonly kind: "no-snapshot" }
  /** The stored snapshot has only `count` chunks. */
  | { readonly kind: "no-chunk"; readonly meta: SnapshotMeta; readonly count: number };

interface Cursor {
  readonly meta: SnapshotMeta;
  readonly chunks: Iterator<Uint8Array>;
  /** The number of the chunk in `ahead`, read already. */
  index: number;
  ahead: IteratorResult<Uint8Array>;
}

export class SnapshotChunks {
  readonly #stored: () => StoredImage | null;
  #cursor: Cursor | null = null;

  constructor(stored: () => StoredImage | null) {
    this.#stored = stored;
  }

  chunk(wanted: number): ChunkLookup {
    const stored = this.#stored();
    if (stored === null) {
      this.#cursor = null;
      return { kind: "no-snapshot" };
    }
    let cursor = this.#cursor;
    // Checked before every read: the stored snapshot's chunks must not be read past its replacement.
    if (cursor === null || !sameMeta(cursor.meta, stored.meta) || cursor.index > wanted) {
      const chunks = stored.chunks()[Symbol.iterator]();
      cursor = { meta: stored.meta, chunks, index: 0, ahead: chunks.next() };
      this.#cursor = cursor;
    }
    while (cursor.index < wanted && cursor.ahead.done !== true) {
      cursor.ahead = cursor.chunks.next();
      cursor.index++;
    }
    if (cursor.ahead.done === true) return { kind: "no-chunk", meta: cursor.meta, count: cursor.index };
    const data = cursor.ahead.value;
    cursor.ahead = cursor.chunks.next();
    cursor.index++;
    return { kind: "chunk", meta: cursor.meta, data, last: cursor.ahead.done === true };
  }
}
