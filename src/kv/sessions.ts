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
 * Forgetting a session must never let a retry apply twice, so a session is
 * never pushed out by others: it is forgotten only once idle for
 * `idleMsMax` of leader time, carried in the entries (never a replica's own
 * clock), and a write from a session the table does not know is applied
 * only if it opens one (seq 1); any later seq is refused as expired. When
 * the table is full (count or bytes), a write that needs more room is
 * refused, not applied: the table stays bounded without forgetting anyone.
 */
import { assert } from "../base/assert.ts";
import type { LogIndex } from "../raft/index.ts";
import type { KvResult } from "./kv-result.ts";

export interface SessionLimits {
  /** Sessions remembered at once. */
  readonly sessionsMax: number;
  /** Bytes of client ids and kept results at once. */
  readonly bytesMax: number;
  /** A session idle this long (leader time) is forgotten. */
  readonly idleMsMax: number;
}

export const sessionLimitsDefault: SessionLimits = { sessionsMax: 100_000, bytesMax: 64 * 1024 * 1024, idleMsMax: 5 * 60_000 };

/** What a session remembers about its last applied write. */
export interface SessionRecord {
  readonly lastSeq: number;
  readonly lastResult: KvResult;
  /** The log index of the session's last write (applied or retried): its recency. */
  readonly lastIndex: LogIndex;
  /** The store's leader time at that write: when the session falls idle. */
  readonly lastAtMs: number;
}

/** One write of a session, as the store applies it. */
export interface SessionWrite {
  readonly client: string;
  readonly seq: number;
  readonly index: LogIndex;
  /** The store's leader time when the write applies. */
  readonly atMs: number;
  /** The most bytes of value its result can keep (a cas's stored or new value). */
  readonly resultBytesMax: number;
}

/** The read-only side of the table, for a server that checks a retry before proposing it again. */
export interface SessionReader {
  /**
   * What a write `(client, seq)` would get without being applied: the saved
   * result when `seq` is the session's last, `stale-seq` when it is older,
   * and null when it must go through the log (a new seq, or a session not
   * known yet: a session's first write may still be on its way into the
   * log, so only applying decides that a session has expired).
   */
  cachedResult(client: string, seq: number): KvResult | null;
  readonly size: number;
}

/** What a session costs: its id (UTF-16) and the value its result keeps, with a fixed overhead. */
const sessionBytes = (client: string, valueBytes: number): number => 2 * client.length + valueBytes + 96;
const keptValueBytes = (result: KvResult): number => (result.kind === "cas" ? (result.value?.length ?? 0) : 0);

export class SessionTable implements SessionReader {
  /** In order of recency: the first session is the least recently used (a Map keeps insertion order). */
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #limits: SessionLimits;
  #bytes = 0;

  constructor(limits: SessionLimits = sessionLimitsDefault) {
    for (const [name, value] of Object.entries(limits)) {
      assert(Number.isSafeInteger(value) && value >= 1, `session limit ${name} must be a positive integer, not ${value}`);
    }
    this.#limits = limits;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Bytes the sessions take, as counted against bytesMax. */
  get bytes(): number {
    return this.#bytes;
  }

  cachedResult(client: string, seq: number): KvResult | null {
    const session = this.#sessions.get(client);
    if (session === undefined || seq > session.lastSeq) return null;
    if (seq === session.lastSeq) return session.lastResult;
    return { kind: "stale-seq", client, seq, lastSeq: session.lastSeq };
  }

  /**
   * Applies `write` at most once: runs `execute` when its seq is new for the
   * session (or opens one) and there is room, and records the result;
   * otherwise returns the saved result, `stale-seq`, `session-expired` or
   * `sessions-full` without running it. Sessions idle past idleMsMax at `write.atMs` are forgotten
   * first.
   */
  applyOnce(write: SessionWrite, execute: () => KvResult): KvResult {
    this.expire(write.atMs);
    const { client, seq, index } = write;
    const session = this.#sessions.get(client);
    if (session !== undefined) assert(index > session.lastIndex, `session ${client} applied index ${index} twice`);
    if (session === undefined && seq !== 1) return { kind: "session-expired", client, seq };
    if (session !== undefined && seq === session.lastSeq) return this.#touch(client, session, index, write.atMs);
    const stale = this.cachedResult(client, seq);
    if (stale !== null) return stale;
    const freed = session === undefined ? 0 : sessionBytes(client, keptValueBytes(session.lastResult));
    const full =
      (session === undefined && this.#sessions.size >= this.#limits.sessionsMax) ||
      this.#bytes - freed + sessionBytes(client, write.resultBytesMax) > this.#limits.bytesMax;
    if (full) return { kind: "sessions-full", sessions: this.#sessions.size, bytes: this.#bytes };
    const result = execute();
    this.#sessions.delete(client);
    this.#sessions.set(client, { lastSeq: seq, lastResult: result, lastIndex: index, lastAtMs: write.atMs });
    this.#bytes += sessionBytes(client, keptValueBytes(result)) - freed;
    return result;
  }

  /** Forgets the sessions idle past idleMsMax at `nowMs`: they lead the recency order, since leader time never goes back. */
  expire(nowMs: number): void {
    for (const [client, session] of this.#sessions) {
      if (nowMs - session.lastAtMs <= this.#limits.idleMsMax) return;
      this.#forget(client, session);
    }
  }

  /** Replaces every session with `records`, given from least to most recently used (a snapshot's). */
  replace(records: Iterable<readonly [string, SessionRecord]>): void {
    this.#sessions.clear();
    this.#bytes = 0;
    for (const [client, record] of records) {
      this.#sessions.set(client, record);
      this.#bytes += sessionBytes(client, keptValueBytes(record.lastResult));
    }
  }

  /** The sessions from least to most recently used (for comparing replicas and for snapshots). */
  records(): IterableIterator<[string, SessionRecord]> {
    return this.#sessions.entries();
  }

  /** A retry counts as use: the session moves to the most recent end. */
  #touch(client: string, session: SessionRecord, index: LogIndex, atMs: number): KvResult {
    this.#sessions.delete(client);
    this.#sessions.set(client, { ...session, lastIndex: index, lastAtMs: atMs });
    return session.lastResult;
  }

  #forget(client: string, session: SessionRecord): void {
    this.#sessions.delete(client);
    this.#bytes -= sessionBytes(client, keptValueBytes(session.lastResult));
  }
}
