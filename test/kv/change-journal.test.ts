/**
 * Proves the change journal that serves watchers (src/kv/change-journal.ts,
 * docs/protocol.md §4 watch): pages in log order filtered by prefix, capped
 * by count and bytes; `next` moving past events that did not match, and past
 * the whole applied log once a page reaches the end, but never back; the
 * journal bounded by count and bytes, oldest first, with its start moving
 * past what it dropped and a read from before it answered COMPACTED; and a
 * reset after a snapshot.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AssertionError } from "../../src/base/assert.ts";
import { ChangeJournal, type ChangeEvent, type JournalPage, type JournalRead } from "../../src/kv/change-journal.ts";

const put = (index: number, key: string, value = Uint8Array.of(index & 0x7f)): ChangeEvent => ({ index, type: "put", key, value });
const del = (index: number, key: string): ChangeEvent => ({ index, type: "delete", key });

const unbounded = { eventsMax: 1_000_000, bytesMax: 1_000_000_000 };

/** A read of everything from `from`, as the store makes it when `lastApplied` entries are applied. */
const everything = (from: number, lastApplied: number, more: Partial<JournalRead> = {}): JournalRead => ({
  from,
  prefix: "",
  limit: 1000,
  bytesMax: 4 * 1024 * 1024,
  lastApplied,
  ...more,
});

function events(page: JournalPage): { readonly indexes: readonly number[]; readonly next: number } {
  assert.equal(page.kind, "events");
  assert.ok(page.kind === "events");
  return { indexes: page.events.map((event) => event.index), next: page.next };
}

describe("ChangeJournal.read", () => {
  // Entries 1 to 9 applied: noops and writes that changed nothing (2, 5, 9) left no event.
  const journal = new ChangeJournal(unbounded);
  for (const event of [put(1, "a/1"), put(3, "b/1"), del(4, "a/1"), put(6, "a/2"), put(7, "b/2"), del(8, "a/2")]) journal.record(event);

  it("gives the events from `from` on in log order; next is past everything applied", () => {
    assert.deepEqual(events(journal.read(everything(1, 9))), { indexes: [1, 3, 4, 6, 7, 8], next: 10 });
    assert.deepEqual(events(journal.read(everything(5, 9))), { indexes: [6, 7, 8], next: 10 });
    assert.deepEqual(journal.read(everything(4, 9)), { kind: "events", events: [del(4, "a/1"), put(6, "a/2"), put(7, "b/2"), del(8, "a/2")], next: 10 });
  });

  it("keeps only keys under the prefix, while next still moves past the others", () => {
    assert.deepEqual(events(journal.read(everything(1, 9, { prefix: "a/" }))), { indexes: [1, 4, 6, 8], next: 10 });
    assert.deepEqual(events(journal.read(everything(7, 9, { prefix: "b/" }))), { indexes: [7], next: 10 });
    assert.deepEqual(events(journal.read(everything(8, 9, { prefix: "b/" }))), { indexes: [], next: 10 }, "nothing matches: next is past it all");
    assert.deepEqual(events(journal.read(everything(1, 9, { prefix: "c" }))), { indexes: [], next: 10 });
  });

  it("with nothing applied at `from` yet, answers empty with next at `from` (a server behind the one that gave it)", () => {
    assert.deepEqual(events(journal.read(everything(10, 9))), { indexes: [], next: 10 });
    assert.deepEqual(events(journal.read(everything(25, 9))), { indexes: [], next: 25 }, "next never goes back");
  });

  it("cuts a page at `limit`, next at the first event left out, so that paging loses and repeats nothing", () => {
    const first = events(journal.read(everything(1, 9, { limit: 2, prefix: "a/" })));
    assert.deepEqual(first, { indexes: [1, 4], next: 6 });
    assert.deepEqual(events(journal.read(everything(first.next, 9, { limit: 2, prefix: "a/" }))), { indexes: [6, 8], next: 10 });
  });

  it("cuts a page past about `bytesMax` of keys and values, but always gives the first event", () => {
    const big = new ChangeJournal(unbounded);
    for (let index = 1; index <= 5; index++) big.record(put(index, "k", new Uint8Array(100)));
    // Each event weighs 101 bytes: two fit in 250, the third would not.
    assert.deepEqual(events(big.read(everything(1, 5, { bytesMax: 250 }))), { indexes: [1, 2], next: 3 });
    assert.deepEqual(events(big.read(everything(1, 5, { bytesMax: 1 }))), { indexes: [1], next: 2 });
  });
});

describe("ChangeJournal bounds", () => {
  it("drops the oldest events past eventsMax; a read from before its start is COMPACTED, naming the start", () => {
    const journal = new ChangeJournal({ eventsMax: 3, bytesMax: 1_000_000 });
    assert.equal(journal.start, 1);
    for (const index of [2, 4, 5, 7, 9]) journal.record(put(index, `k${index}`));
    assert.equal(journal.size, 3);
    // Events 2 and 4 went: every change from 5 on is still there.
    assert.equal(journal.start, 5);
    assert.deepEqual(journal.read(everything(4, 9)), { kind: "compacted", oldest: 5 });
    assert.deepEqual(journal.read(everything(1, 9)), { kind: "compacted", oldest: 5 });
    assert.deepEqual(events(journal.read(everything(5, 9))), { indexes: [5, 7, 9], next: 10 });
  });

  it("drops the oldest events past bytesMax", () => {
    // Each event counts 64 bytes of overhead, 2 per key character and its value's bytes: 64 + 2 + 100.
    const journal = new ChangeJournal({ eventsMax: 1000, bytesMax: 400 });
    for (let index = 1; index <= 4; index++) journal.record(put(index, "k", new Uint8Array(100)));
    assert.equal(journal.size, 2);
    assert.equal(journal.bytes, 332);
    assert.equal(journal.start, 3);
    journal.record(del(5, "k"));
    assert.equal(journal.start, 3, "a delete's 66 bytes still fit");
    assert.deepEqual(events(journal.read(everything(3, 5))), { indexes: [3, 4, 5], next: 6 });
  });

  it("stays bounded over many events, and serves the newest after dropping thousands", () => {
    const journal = new ChangeJournal({ eventsMax: 100, bytesMax: 1_000_000 });
    for (let index = 1; index <= 10_000; index++) journal.record(put(index, index % 2 === 0 ? "even" : "odd"));
    assert.equal(journal.size, 100);
    assert.equal(journal.start, 9901);
    const page = events(journal.read(everything(9901, 10_000, { prefix: "odd" })));
    assert.equal(page.indexes.length, 50);
    assert.deepEqual([page.indexes[0], page.indexes.at(-1), page.next], [9901, 9999, 10_001]);
  });

  it("refuses an event out of log order (a bug in the store)", () => {
    const journal = new ChangeJournal(unbounded);
    journal.record(put(3, "a"));
    assert.throws(() => journal.record(put(3, "a")), AssertionError);
    assert.throws(() => journal.record(put(2, "a")), AssertionError);
  });

  it("reset forgets everything and serves from the index given (a restored snapshot's next)", () => {
    const journal = new ChangeJournal(unbounded);
    for (let index = 1; index <= 5; index++) journal.record(put(index, "k"));
    journal.reset(101);
    assert.deepEqual([journal.size, journal.bytes, journal.start], [0, 0, 101]);
    assert.deepEqual(journal.read(everything(100, 100)), { kind: "compacted", oldest: 101 });
    assert.deepEqual(events(journal.read(everything(101, 100))), { indexes: [], next: 101 });
    assert.throws(() => journal.record(put(100, "k")), AssertionError, "nothing before its start");
    journal.record(put(101, "k"));
    assert.deepEqual(events(journal.read(everything(101, 101))), { indexes: [101], next: 102 });
  });
});
