/**
 * The reads the KV store answers (StateMachine.query): a key's value, or the
 * pairs under a prefix. Both see the state as of the store's lastApplied.
 */

/** One `[key, raw MessagePack value]` pair of a list. */
export type KvEntry = readonly [key: string, value: Uint8Array];

export type KvQuery =
  | { readonly op: "get"; readonly key: string }
  /** All keys when `prefix` is absent; at most `limit` pairs when it is given. */
  | { readonly op: "list"; readonly prefix?: string; readonly limit?: number };

export type KvAnswer =
  /** The raw stored value, null when the key is absent. */
  | { readonly op: "get"; readonly value: Uint8Array | null }
  /** Pairs in the byte order of the keys' UTF-8. */
  | { readonly op: "list"; readonly entries: readonly KvEntry[] };
