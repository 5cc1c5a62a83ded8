/**
 * The reads the KV store answers (StateMachine.query): a key's value, the
 * pairs under a prefix, or the changes since an index (its change journal).
 * All see the state as of the store's lastApplied.
 */
import type { LogIndex } from "../raft/index.ts";
import type { JournalPage } from "./change-journal.ts";

/** One `[key, raw MessagePack value]` pair of a list. */
export type KvEntry = readonly [key: string, value: Uint8Array];

export type KvQuery =
  | { readonly op: "get"; readonly key: string }
  /**
   * One page of the pairs whose key starts with `prefix` (all keys when
   * absent) and sorts after `after` (from the first when absent): at most
   * `limit` pairs and, past the first, at most about `bytesMax` bytes of keys
   * and values, so that no answer grows with the store.
   */
  | {
      readonly op: "list";
      readonly prefix?: string;
      readonly after?: string;
      readonly limit: number;
      readonly bytesMax: number;
    }
  | WatchQuery;

/**
 * One page of the changes applied at `from` or later (from the next entry to
 * apply when absent) to keys that start with `prefix` (all keys when
 * absent), capped as a list page is.
 */
export interface WatchQuery {
  readonly op: "watch";
  readonly from?: LogIndex;
  readonly prefix?: string;
  readonly limit: number;
  readonly bytesMax: number;
}

export type KvAnswer =
  /** The raw stored value, null when the key is absent. */
  | { readonly op: "get"; readonly value: Uint8Array | null }
  /** Pairs in the byte order of the keys' UTF-8; `more` when further pairs match beyond this page. */
  | { readonly op: "list"; readonly entries: readonly KvEntry[]; readonly more: boolean }
  | { readonly op: "watch"; readonly page: JournalPage };
