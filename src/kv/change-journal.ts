/**
 * The recent changes the store applied, for watchers (docs/protocol.md §4,
 * watch): every applied change that altered the state, in log order, as
 * `{ index, type, key, value? }`. A watcher reads it from an index on and
 * comes back with the `next` its page gave.
 *
 * Bounded by count and bytes, oldest dropped first: a watcher that falls
 * further behind than the journal reaches is told so (COMPACTED), never
 * given a stream with a hole in it. `start` is the first index the journal
 * can still serve from: from there on, every change is in it.
 *
 * Not replicated state: it is rebuilt as entries apply, so a replica that
 * replayed its log holds the same events as its peers for the indexes both
 * kept, and one restored from a snapshot holds only what came after it.
 */
import { assert } from "../base/assert.ts";
import type { LogIndex } from "../raft/index.ts";

/** One change to the store; `value` is the raw MessagePack bytes stored (a successful cas is a put). */
export type ChangeEvent =
  | { readonly index: LogIndex; readonly type: "put"; readonly key: string; readonly value: Uint8Array }
  | { readonly index: LogIndex; readonly type: "delete"; readonly key: string };

export interface ChangeJournalLimits {
  /** Events kept at once. */
  readonly eventsMax: number;
  /** Bytes of keys and values kept at once (see eventBytes). */
  readonly bytesMax: number;
}

/**
 * 10,000 events is some 3 s of writes at the 3,500 a second a cluster here
 * sustains at most, and minutes of an ordinary load: room for a watcher to
 * move to another server without losing its place. More costs more than it
 * counts: a value overwritten since is kept only by the journal, with the
 * allocation around it, and 100,000 events of 100-byte puts over 10,000
 * keys held some 64 MB more RSS than none (measured with the KV store
 * alone). A watcher further behind re-reads with `list` and watches from
 * there, as after an etcd compaction. 8 MiB bounds large values likewise.
 */
export const changeJournalLimitsDefault: ChangeJournalLimits = { eventsMax: 10_000, bytesMax: 8 * 1024 * 1024 };

/** One page read from the journal. */
export type JournalPage =
  /** `next`: where the following read should start; it moves past events that did not match as well. */
  | { readonly kind: "events"; readonly events: readonly ChangeEvent[]; readonly next: LogIndex }
  /** The read started before `oldest`, the journal's start: events there are no longer kept. */
  | { readonly kind: "compacted"; readonly oldest: LogIndex };

/** What one page may hold: at most `limit` events and, past the first, about `bytesMax` bytes of keys and values. */
export interface JournalRead {
  readonly from: LogIndex;
  readonly prefix: string;
  readonly limit: number;
  readonly bytesMax: number;
  /** The store's last applied index: a page that reaches the end has seen every entry up to it. */
  readonly lastApplied: LogIndex;
}

/** What an event costs: its key (UTF-16) and value, with a fixed overhead for the object and its slot. */
const eventBytes = (event: ChangeEvent): number => 2 * event.key.length + (event.type === "put" ? event.value.length : 0) + 64;

/** A page's measure of an event, as a list page measures a pair (kv-store.ts). */
const pageBytes = (event: ChangeEvent): number => event.key.length + (event.type === "put" ? event.value.length : 0);

/** Dropped slots at the front are let go of once there are this many and they outnumber the kept ones. */
const compactAfterDropped = 1024;

export class ChangeJournal {
  readonly #limits: ChangeJournalLimits;
  /** Events in index order; those before #head were dropped and await compaction. */
  #events: ChangeEvent[] = [];
  #head = 0;
  #bytes = 0;
  #start: LogIndex;

  constructor(limits: ChangeJournalLimits = changeJournalLimitsDefault, start: LogIndex = 1) {
    for (const [name, value] of Object.entries(limits)) {
      assert(Number.isSafeInteger(value) && value >= 1, `change journal limit ${name} must be a positive integer, not ${value}`);
    }
    this.#limits = limits;
    this.#start = start;
  }

  /** The first index the journal can serve from: every change at or after it is kept. */
  get start(): LogIndex {
    return this.#start;
  }

  /** Events kept. */
  get size(): number {
    return this.#events.length - this.#head;
  }

  /** Bytes kept, as the limits count them. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Adds the change applied at `event.index`, after every one recorded so far; drops the oldest past the limits. */
  record(event: ChangeEvent): void {
    const last = this.#events.at(-1);
    assert(
      event.index >= this.#start && (last === undefined || event.index > last.index),
      `change at index ${event.index} recorded out of order (journal starts at ${this.#start}, last ${last?.index ?? "none"})`,
    );
    this.#events.push(event);
    this.#bytes += eventBytes(event);
    while (this.size > this.#limits.eventsMax || this.#bytes > this.#limits.bytesMax) this.#dropOldest();
  }

  /** Forgets every event: the journal serves from `start` on (after a snapshot restored at `start - 1`). */
  reset(start: LogIndex): void {
    this.#events = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#start = start;
  }

  /**
   * One page of the events at or after `from` whose key starts with
   * `prefix`. A page that reaches the end has seen everything applied, so
   * its `next` is past `lastApplied` (or `from`, when that is further on: a
   * server behind the one that gave it).
   */
  read({ from, prefix, limit, bytesMax, lastApplied }: JournalRead): JournalPage {
    if (from < this.#start) return { kind: "compacted", oldest: this.#start };
    const events: ChangeEvent[] = [];
    let bytes = 0;
    for (let slot = this.#firstSlotAtOrAfter(from); slot < this.#events.length; slot++) {
      const event = this.#events[slot] as ChangeEvent;
      if (!event.key.startsWith(prefix)) continue;
      bytes += pageBytes(event);
      if (events.length >= limit || (events.length > 0 && bytes > bytesMax)) return { kind: "events", events, next: event.index };
      events.push(event);
    }
    return { kind: "events", events, next: Math.max(from, lastApplied + 1) };
  }

  /** The slot of the first kept event whose index is `from` or later (binary search: indexes grow). */
  #firstSlotAtOrAfter(from: LogIndex): number {
    let low = this.#head;
    let high = this.#events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#events[middle] as ChangeEvent).index < from) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #dropOldest(): void {
    const oldest = this.#events[this.#head] as ChangeEvent;
    this.#head += 1;
    this.#bytes -= eventBytes(oldest);
    this.#start = oldest.index + 1;
    if (this.#head >= compactAfterDropped && this.#head * 2 >= this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
  }
}
