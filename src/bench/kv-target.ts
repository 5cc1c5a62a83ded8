/**
 * What the workload needs of a key-value store, so that a second system
 * (etcd, for `--vs-etcd`: etcd-system.ts) can run the same steps: one
 * connection per closed-loop client (`KvTarget`), and the system around
 * them (`KvSystem`): its processes to measure, a wait for its backlog
 * between steps, and how to name a failure.
 */
import type { WatchedProcess } from "./process-sampler.ts";

/** One client's connection. Values are strings; a missing key reads as null. */
export interface KvTarget {
  put(key: string, value: string): Promise<void>;
  get(key: string, options: { readonly stale: boolean }): Promise<string | null>;
  /** Sets `key` to `value` if it holds `expected` (null: absent); whether it did. */
  cas(key: string, expected: string | null, value: string): Promise<boolean>;
  /**
   * What the client library did on its own so far, by cause, behind the
   * operations it answered: retries after a server's TIMEOUT or NO_LEADER,
   * turns to another server after no reply in time. Under overload these show
   * what the final answers hide; empty when the library does not tell.
   */
  readonly hidden: Readonly<Record<string, number>>;
  close(): void;
}

export interface KvSystem {
  /** As in reports: "zraft". */
  readonly name: string;
  /** One line for the start of a run. */
  readonly description: string;
  /** A new connection, closed by the caller (or by `cleanup` at the latest). */
  connect(): KvTarget;
  /** The processes whose CPU and memory each step reports. */
  processes(): Promise<WatchedProcess[]>;
  /** Waits until the work of the last step is done everywhere, so that it does not slow the next. */
  settle(): Promise<void>;
  /** A short name for a failed operation's error: a protocol error code, or the error's name. */
  /**
   * @throws the error itself when it is this process's own failure, not the
   * system's answer (out of sockets, say): a client that fails at once would
   * otherwise spin, and the step would measure the generator.
   */
  errorCode(error: unknown): string;
  /** Stops what the run started; closes every connection. Idempotent. */
  cleanup(options?: { readonly keepDir?: boolean }): Promise<void>;
}
