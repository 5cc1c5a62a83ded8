/**
 * The key-value state machine that committed log entries drive.
 *
 * Deterministic by construction: its state (values, key order, sessions)
 * derives only from the entries applied, in index order, so every server
 * that applies the same log ends in the same state (the Raft paper's State
 * Machine Safety property, §5.4.3, is what makes that enough).
 *
 * Values are the raw MessagePack bytes clients sent; the state machine never
 * decodes them except to compare a CAS expectation (see value-equality.ts).
 *
 * Beside the state, a bounded journal of the changes applied serves
 * watchers (change-journal.ts). It is not part of a snapshot: a replica
 * restored from one serves changes from the snapshot's index on.
 */
import { assert, assertNever } from "../base/assert.ts";
import { nullLogger, type Logger } from "../base/logger.ts";
import type { Entry, LogIndex } from "../raft/index.ts";
import type { StateMachine, StateMachineSnapshot } from "../state-machine/state-machine.ts";
import { ChangeJournal, changeJournalLimitsDefault, type ChangeJournalLimits } from "./change-journal.ts";
import { decodeCommand, type KvCommand } from "./commands.ts";
import type { KvAnswer, KvEntry, KvQuery } from "./kv-query.ts";
import type { KvResult } from "./kv-result.ts";
import { decodeKvImage, encodeSnapshotChunks } from "./kv-snapshot.ts";
import { SessionTable, sessionLimitsDefault, type SessionLimits, type SessionReader, type SessionRecord } from "./sessions.ts";
import { SortedKeys, compareKeys } from "./sorted-keys.ts";
import { msgpackValuesEqual } from "./value-equality.ts";

export interface KvStoreOptions {
  /** How many client sessions to remember, in what room, for how long (see sessions.ts). */
  readonly sessions?: Partial<SessionLimits>;
  /** How many recent changes to keep for watchers, in what room (see change-journal.ts). */
  readonly journal?: Partial<ChangeJournalLimits>;
  /** Where a committed entry that is not a command is reported. */
  readonly logger?: Logger;
}

/** The key-value store, as the state machine the replicated log drives (docs/architecture.md §1). */
export class KvStore implements StateMachine<KvQuery, KvAnswer, KvResult> {
  readonly #values = new Map<string, Uint8Array>();
  /** Holds exactly the keys of #values. */
  readonly #keys = new SortedKeys();
  readonly #sessions: SessionTable;
  readonly #journal: ChangeJournal;
  readonly #logger: Logger;
  /** The index of the last entry applied; entries are applied one by one, in order, from 1. */
  #lastApplied: LogIndex = 0;
  /** Leader time: the latest time any applied command carried, so it never goes back when leaders' clocks differ. */
  #clockMs = 0;

  constructor(options: KvStoreOptions = {}) {
    this.#sessions = new SessionTable({ ...sessionLimitsDefault, ...options.sessions });
    this.#journal = new ChangeJournal({ ...changeJournalLimitsDefault, ...options.journal });
    this.#logger = options.logger ?? nullLogger;
  }

  get lastApplied(): LogIndex {
    return this.#lastApplied;
  }

  /** The number of keys stored. */
  get size(): number {
    return this.#values.size;
  }

  /** The exactly-once sessions, for a server that answers a retry without proposing it again. */
  get sessions(): SessionReader {
    return this.#sessions;
  }

  /**
   * Applies the next committed entry. Returns the write's result, or null
   * for a noop and for data that is not a command (a failed no-op, logged).
   * Throws AssertionError when `entry` is not the next index (a bug in the
   * caller).
   */
  apply(entry: Entry): KvResult | null {
    assert(
      entry.index === this.#lastApplied + 1,
      `applied entry ${entry.index} after ${this.#lastApplied}: entries must be applied in order, once`,
    );
    let result: KvResult | null;
    switch (entry.type) {
      case "noop":
      case "config":
        // The core's entries: a new leader's no-op and a configuration change (Raft dissertation ch. 4) change no key.
        result = null;
        break;
      case "command": {
        const decoded = decodeCommand(entry.data);
        if (!decoded.ok) {
          this.#logger.warn(`applied entry ${entry.index} (term ${entry.term}) as a no-op: its data is not a command: ${decoded.reason}`);
          result = null;
          break;
        }
        const command = decoded.command;
        this.#clockMs = Math.max(this.#clockMs, command.atMs ?? 0);
        this.#sessions.expire(this.#clockMs);
        result =
          command.client === undefined
            ? this.#execute(command, entry.index)
            : this.#sessions.applyOnce(
                { client: command.client, seq: command.seq, index: entry.index, atMs: this.#clockMs, resultBytesMax: this.#resultBytesMax(command) },
                () => this.#execute(command, entry.index),
              );
        break;
      }
      default:
        return assertNever(entry.type, "entry type");
    }
    this.#lastApplied = entry.index;
    return result;
  }

  query(query: KvQuery): KvAnswer {
    switch (query.op) {
      case "get":
        return { op: "get", value: this.read(query.key) };
      case "list":
        return { op: "list", ...this.#page(query.prefix ?? "", query.after, query.limit, query.bytesMax) };
      case "watch":
        return {
          op: "watch",
          page: this.#journal.read({
            from: query.from ?? this.#lastApplied + 1,
            prefix: query.prefix ?? "",
            limit: query.limit,
            bytesMax: query.bytesMax,
            lastApplied: this.#lastApplied,
          }),
        };
      default:
        return assertNever(query, "query");
    }
  }

  takeSnapshot(): StateMachineSnapshot {
    // Values are immutable byte arrays, so shallow copies freeze the image while later entries apply.
    const image = { entries: this.list(), sessions: [...this.#sessions.records()], clockMs: this.#clockMs };
    return { lastApplied: this.#lastApplied, chunks: () => encodeSnapshotChunks(image) };
  }

  /** Throws SnapshotFormatError, the store unchanged, for chunks that are no image as of `lastApplied`. */
  restore(lastApplied: LogIndex, chunks: Iterable<Uint8Array>): void {
    const image = decodeKvImage(chunks, lastApplied);
    this.#values.clear();
    this.#keys.clear();
    for (const [key, value] of image.entries) this.#store(key, value);
    this.#sessions.replace(image.sessions);
    this.#clockMs = image.clockMs;
    this.#lastApplied = lastApplied;
    this.#journal.reset(lastApplied + 1);
  }

  /** The raw value stored under `key`, or null. */
  read(key: string): Uint8Array | null {
    return this.#values.get(key) ?? null;
  }

  /**
   * The pairs whose key starts with `prefix` (all when absent), in the byte
   * order of the keys' UTF-8, at most `limit` of them.
   */
  list(prefix = "", limit = Number.POSITIVE_INFINITY): KvEntry[] {
    return this.#page(prefix, undefined, limit, Number.POSITIVE_INFINITY).entries;
  }

  /** The sessions, least recently used first (for comparing replicas). */
  sessionRecords(): IterableIterator<[string, SessionRecord]> {
    return this.#sessions.records();
  }

  #page(prefix: string, after: string | undefined, limit: number, bytesMax: number): { entries: KvEntry[]; more: boolean } {
    const entries: KvEntry[] = [];
    let bytes = 0;
    const start = after !== undefined && compareKeys(after, prefix) > 0 ? after : prefix;
    for (const key of this.#keys.from(start)) {
      if (!key.startsWith(prefix)) break;
      if (key === after) continue;
      const value = this.#values.get(key) as Uint8Array;
      bytes += key.length + value.length;
      if (entries.length >= limit || (entries.length > 0 && bytes > bytesMax)) return { entries, more: true };
      entries.push([key, value]);
    }
    return { entries, more: false };
  }

  /** The most value bytes the command's result can hold: a cas returns the stored value or its new one. */
  #resultBytesMax(command: KvCommand): number {
    return command.op === "cas" ? Math.max(command.value.length, this.#values.get(command.key)?.length ?? 0) : 0;
  }

  #execute(command: KvCommand, index: LogIndex): KvResult {
    switch (command.op) {
      case "put":
        this.#put(command.key, command.value, index);
        return { kind: "put", index };
      case "delete": {
        const found = this.#values.delete(command.key);
        if (found) {
          this.#keys.delete(command.key);
          this.#journal.record({ index, type: "delete", key: command.key });
        }
        return { kind: "delete", index, found };
      }
      case "cas": {
        const current = this.#values.get(command.key) ?? null;
        const matches =
          command.expect === null ? current === null : current !== null && msgpackValuesEqual(command.expect, current);
        if (!matches) return { kind: "cas", index, swapped: false, value: current };
        this.#put(command.key, command.value, index);
        return { kind: "cas", index, swapped: true, value: command.value };
      }
      default:
        return assertNever(command, "command");
    }
  }

  /** A write's new value: stored, and journalled for watchers. */
  #put(key: string, value: Uint8Array, index: LogIndex): void {
    this.#store(key, value);
    this.#journal.record({ index, type: "put", key, value });
  }

  #store(key: string, value: Uint8Array): void {
    if (!this.#values.has(key)) this.#keys.add(key);
    this.#values.set(key, value);
  }
}
