import type { LogIndex } from "../raft/index.ts";

/**
 * What applying one write did, as the reply to its client needs it
 * (docs/protocol.md §5). Part of the replicated state: a session keeps
 * its last result so that a retried write gets the original reply.
 */
export type KvResult =
  | { readonly kind: "put"; readonly index: LogIndex }
  | { readonly kind: "delete"; readonly index: LogIndex; readonly found: boolean }
  /** `value` is the value stored after the operation, swapped or not (null when the key is absent). */
  | { readonly kind: "cas"; readonly index: LogIndex; readonly swapped: boolean; readonly value: Uint8Array | null }
  /**
   * The write's `seq` is below the last one its session applied: it was
   * not applied, and its original result is no longer kept. The server
   * answers BAD_REQUEST.
   */
  | { readonly kind: "stale-seq"; readonly client: string; readonly seq: number; readonly lastSeq: number }
  /**
   * The write's session is not known and `seq` does not open one: the
   * session was forgotten after falling idle (or never opened). Not applied;
   * the server answers SESSION_EXPIRED.
   */
  | { readonly kind: "session-expired"; readonly client: string; readonly seq: number }
  /** The session table had no room for the write's session or result: not applied (the server answers TIMEOUT). */
  | { readonly kind: "sessions-full"; readonly sessions: number; readonly bytes: number };

