/**
 * Client sessions for exactly-once writes (docs/protocol.md §8): a write
 * with `client` and `seq` takes effect at most once, wherever and however
 * often it is retried, and a retry of an applied write gets the reply the
 * write got. The approach of the Raft dissertation, §6.3.
 *
 * The table is part of the replicated state: it changes only as entries are
 * applied, the same way on every server, so a retry that reaches a new leader
 * finds the session its predecessor recorded.
 *
 * Bound: at most `sessionsMax` sessions. When a write opens one more, the
 * session whose last write has the lowest log index is forgotten. This is
 * deterministic (it depends only on the entries), and a client only loses
 * its session after `sessionsMax` other clients have written since its own
 * last write; a retry after that would be applied again, so clients must not
 * retry for that long.
 */
import { assert } from "../base/assert.ts";
import type { LogIndex } from "../raft/index.ts";
import type { KvResult } from "./kv-result.ts";

/** How many client sessions a state machine remembers by default. */
export const sessionsMaxDefault = 10_000;

/** What a session remembers about its last applied write. */
export interface SessionRecord {
  readonly lastSeq: number;
  readonly lastResult: KvResult;
  /** The log index of the session's last write (applied or retried): its recency. */
  readonly lastIndex: LogIndex;
}

/** The read-only side of the table, for a server that checks a retry before proposing it again. */
export interface SessionReader {
  /**
   * What a write `(client, seq)` would get without being applied: the saved
   * result when `seq` is the session's last, a `stale-seq` result when it
   * is older, and null when it is new (it must go through the log).
   */
  cachedResult(client: string, seq: number): KvResult | null;
  readonly size: number;
}

export class SessionTable implements SessionReader {
  /** In order of recency: the first session is the least recently used (a Map keeps insertion order). */
  readonly #sessions = new Map<string, SessionRecord>();

  constructor(readonly sessionsMax: number = sessionsMaxDefault) {
    assert(Number.isSafeInteger(sessionsMax) && sessionsMax >= 1, `sessionsMax must be a positive integer, not ${sessionsMax}`);
  }

  get size(): number {
    return this.#sessions.size;
  }

  cachedResult(client: string, seq: number): KvResult | null {
    const session = this.#sessions.get(client);
    if (session === undefined || seq > session.lastSeq) return null;
    if (seq === session.lastSeq) return session.lastResult;
    return { kind: "stale-seq", client, seq, lastSeq: session.lastSeq };
  }

  /**
   * Applies the write `(client, seq)` found at log `index` at most once:
   * runs `write` when `seq` is new for the session and records its result,
   * otherwise returns what cachedResult says without running it.
   */
  applyOnce(client: string, seq: number, index: LogIndex, write: () => KvResult): KvResult {
    const session = this.#sessions.get(client);
    if (session !== undefined) assert(index > session.lastIndex, `session ${client} applied index ${index} twice`);
    const cached = this.cachedResult(client, seq);
    if (cached?.kind === "stale-seq") return cached;
    const result = cached ?? write();
    // Delete then set moves the session to the most recent end.
    this.#sessions.delete(client);
    this.#sessions.set(client, { lastSeq: seq, lastResult: result, lastIndex: index });
    if (this.#sessions.size > this.sessionsMax) {
      const leastRecent = this.#sessions.keys().next().value as string;
      this.#sessions.delete(leastRecent);
    }
    return result;
  }

  /** Replaces every session with `records`, given from least to most recently used (a snapshot's). */
  replace(records: Iterable<readonly [string, SessionRecord]>): void {
    this.#sessions.clear();
    for (const [client, record] of records) this.#sessions.set(client, record);
    assert(this.#sessions.size <= this.sessionsMax, `a snapshot holds ${this.#sessions.size} sessions, more than ${this.sessionsMax}`);
  }

  /** The sessions from least to most recently used (for comparing replicas and for snapshots). */
  records(): IterableIterator<[string, SessionRecord]> {
    return this.#sessions.entries();
  }
}
