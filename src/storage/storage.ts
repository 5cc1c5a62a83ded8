import type { Entry, HardState } from "../raft/index.ts";

/** What a server finds on its disk at start-up. */
export interface RaftState {
  readonly hardState: HardState;
  /**
   * The end of the durable log, in order: its last entries whose entryBytes
   * fit in the bound load() was given (at least the last one; all of them
   * when they fit). The core reads the ones before through LogStorage.
   */
  readonly entries: readonly Entry[];
}

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
   * is first truncated from that index. Resolves only once the write is on
   * disk (fsync'd): callers send messages and answer clients after it.
   */
  save(hardState: HardState | null, entries: readonly Entry[]): Promise<void>;
  close(): Promise<void>;
}
