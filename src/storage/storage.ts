import type { Entry, HardState } from "../raft/index.ts";

/** What a server finds on its disk at start-up. */
export interface RaftState {
  readonly hardState: HardState;
  /** The whole durable log, indices 1..n in order. */
  readonly entries: readonly Entry[];
}

/**
 * Durable Raft state for one server (hashicorp/raft's LogStore + StableStore
 * in one). Errors are fatal: a server that cannot persist must stop.
 */
export interface RaftStorage {
  load(): Promise<RaftState>;
  /**
   * Writes `hardState` (when not null) and `entries` atomically. When
   * `entries[0].index` is at or below the last stored index, the stored log
   * is first truncated from that index. Resolves only once the write is on
   * disk (fsync'd): callers send messages and answer clients after it.
   */
  save(hardState: HardState | null, entries: readonly Entry[]): Promise<void>;
  close(): Promise<void>;
}
