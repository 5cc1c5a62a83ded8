/**
 * Proves that KvStore applies committed entries as docs/protocol.md §5
 * describes (put, delete, cas and their results; list in UTF-8 key order with
 * prefix and limit), applies each write of a session at most once, refuses
 * entries out of order, and is deterministic: two machines fed the same
 * entries end in identical states with identical results (what State Machine
 * Safety, Raft paper §5.4.3, relies on), and that a replica restored from a
 * snapshot goes on exactly as the one that took it (dissertation ch. 5).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { encodeCommand, type KvCommand } from "../../src/kv/commands.ts";
import type { KvResult } from "../../src/kv/kv-result.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import { SnapshotFormatError } from "../../src/kv/kv-snapshot.ts";
import { AssertionError } from "../../src/base/assert.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";
import { SeededRandom } from "../../src/raft/index.ts";
import type { Entry } from "../../src/raft/index.ts";

const packr = new Packr({ useRecords: false });
const value = (content: unknown): Uint8Array => Uint8Array.from(packr.pack(content));

/** Feeds commands (or noops, as null) to a machine as consecutive entries, returning their results. */
function applyAll(machine: KvStore, commands: readonly (KvCommand | null)[]): (KvResult | null)[] {
  return commands.map((command) => machine.apply(entryAt(machine.lastApplied + 1, command)));
}

function entryAt(index: number, command: KvCommand | null): Entry {
  return command === null
    ? { index, term: 1, type: "noop", data: new Uint8Array(0) }
    : { index, term: 1, type: "command", data: encodeCommand(command) };
}

describe("KvStore.apply", () => {
  it("applies noops as nothing and counts lastApplied", () => {
    const machine = new KvStore();
    assert.deepEqual(applyAll(machine, [null, null]), [null, null]);
    assert.equal(machine.lastApplied, 2);
    assert.equal(machine.size, 0);
  });

  it("refuses an entry that is not the next index (a bug in its caller)", () => {
    const machine = new KvStore();
    assert.throws(() => machine.apply(entryAt(2, null)), AssertionError);
    machine.apply(entryAt(1, null));
    assert.throws(() => machine.apply(entryAt(1, null)), AssertionError);
    assert.equal(machine.lastApplied, 1);
  });

  it("applies a committed entry that is not a command as a logged no-op, the same on every replica", () => {
    const logger = new RecordingLogger();
    const machines = [new KvStore({ logger }), new KvStore()];
    for (const machine of machines) {
      applyAll(machine, [{ op: "put", key: "a", value: value(1) }]);
      assert.equal(machine.apply({ index: 2, term: 1, type: "command", data: Uint8Array.of(0xc1) }), null);
      assert.equal(machine.apply({ index: 3, term: 1, type: "command", data: packr.pack({ op: "drop-table", key: "a" }) }), null);
      assert.equal(machine.lastApplied, 3);
      assert.deepEqual(machine.list(), [["a", value(1)]]);
    }
    assert.ok(logger.has("warn", "applied entry 2 (term 1) as a no-op"));
    assert.ok(logger.has("warn", "applied entry 3 (term 1) as a no-op"));
  });

  it("puts, reads and deletes", () => {
    const machine = new KvStore();
    const results = applyAll(machine, [
      { op: "put", key: "a", value: value(1) },
      { op: "put", key: "a", value: value(2) },
      { op: "delete", key: "a" },
      { op: "delete", key: "a" },
      { op: "put", key: "b", value: value("x") },
    ]);
    assert.deepEqual(results, [
      { kind: "put", index: 1 },
      { kind: "put", index: 2 },
      { kind: "delete", index: 3, found: true },
      { kind: "delete", index: 4, found: false },
      { kind: "put", index: 5 },
    ]);
    assert.equal(machine.read("a"), null);
    assert.deepEqual(machine.read("b"), value("x"));
    assert.equal(machine.size, 1);
  });
});

describe("KvStore cas", () => {
  const cas = (key: string, expect: Uint8Array | null, next: Uint8Array): KvCommand => ({ op: "cas", key, expect, value: next });

  it("swaps into an absent key only when expect is nil", () => {
    const machine = new KvStore();
    assert.deepEqual(applyAll(machine, [cas("k", value(1), value(2))]), [{ kind: "cas", index: 1, swapped: false, value: null }]);
    assert.deepEqual(applyAll(machine, [cas("k", null, value(2))]), [{ kind: "cas", index: 2, swapped: true, value: value(2) }]);
    assert.deepEqual(applyAll(machine, [cas("k", null, value(3))]), [{ kind: "cas", index: 3, swapped: false, value: value(2) }]);
    assert.deepEqual(machine.read("k"), value(2));
  });

  it("swaps when expect equals the stored value, and reports the stored value when not", () => {
    const machine = new KvStore();
    applyAll(machine, [{ op: "put", key: "k", value: value({ n: 1, list: [1, 2] }) }]);
    assert.deepEqual(applyAll(machine, [cas("k", value({ n: 2 }), value("no"))]), [
      { kind: "cas", index: 2, swapped: false, value: value({ n: 1, list: [1, 2] }) },
    ]);
    // The same map with its entries in another order and 1 written as a uint16 still matches.
    const reordered = Uint8Array.of(0x82, 0xa4, ...new TextEncoder().encode("list"), 0x92, 0x01, 0x02, 0xa1, 0x6e, 0xcd, 0x00, 0x01);
    assert.deepEqual(applyAll(machine, [cas("k", reordered, value("yes"))]), [{ kind: "cas", index: 3, swapped: true, value: value("yes") }]);
    assert.deepEqual(machine.read("k"), value("yes"));
  });
});

describe("KvStore.list", () => {
  const keys = ["b", "a/2", "a/10", "a/1", "\uffff", "😀", "é", "a", "ab"];
  const machine = new KvStore();
  applyAll(machine, keys.map((key, at) => ({ op: "put", key, value: value(at) })));
  applyAll(machine, [{ op: "delete", key: "ab" }]);

  it("lists every pair in the byte order of the keys' UTF-8", () => {
    const listed = machine.list().map(([key]) => key);
    assert.deepEqual(listed, ["a", "a/1", "a/10", "a/2", "b", "é", "\uffff", "😀"]);
    assert.deepEqual(machine.list()[1], ["a/1", value(3)]);
  });

  it("lists by prefix, with a limit", () => {
    assert.deepEqual(machine.list("a/").map(([key]) => key), ["a/1", "a/10", "a/2"]);
    assert.deepEqual(machine.list("a/", 2).map(([key]) => key), ["a/1", "a/10"]);
    assert.deepEqual(machine.list("a/1").map(([key]) => key), ["a/1", "a/10"]);
    assert.deepEqual(machine.list("", 1).map(([key]) => key), ["a"]);
    assert.deepEqual(machine.list("c"), []);
    assert.deepEqual(machine.list("zzz"), []);
    assert.deepEqual(machine.list("a", 0), []);
  });

  it("lists 50,000 keys in order", () => {
    const big = new KvStore();
    const random = new SeededRandom(3);
    const written = new Set<string>();
    for (let at = 0; at < 50_000; at++) {
      const key = `k${random.intBetween(0, 1_000_000)}`;
      written.add(key);
      applyAll(big, [{ op: "put", key, value: value(at) }]);
    }
    const listed = big.list().map(([key]) => key);
    assert.deepEqual(listed, [...written].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    assert.equal(big.list("k1", 10).length, 10);
  });
});

describe("KvStore sessions", () => {
  it("applies a retried write once and answers the retry with the original result", () => {
    const machine = new KvStore();
    const write: KvCommand = { op: "put", key: "k", value: value("first"), client: "c", seq: 1 };
    const results = applyAll(machine, [write, { op: "put", key: "k", value: value("other") }, write]);
    assert.deepEqual(results, [{ kind: "put", index: 1 }, { kind: "put", index: 2 }, { kind: "put", index: 1 }]);
    assert.deepEqual(machine.read("k"), value("other"), "the retry did not write again");
    assert.deepEqual(machine.sessions.cachedResult("c", 1), { kind: "put", index: 1 });
    assert.equal(machine.sessions.cachedResult("c", 2), null);
  });

  it("refuses an older seq as stale and keeps a cas's original result", () => {
    const machine = new KvStore();
    const first: KvCommand = { op: "cas", key: "k", expect: null, value: value(1), client: "c", seq: 1 };
    const results = applyAll(machine, [first, { op: "delete", key: "k", client: "c", seq: 2 }, first]);
    assert.deepEqual(results, [
      { kind: "cas", index: 1, swapped: true, value: value(1) },
      { kind: "delete", index: 2, found: true },
      { kind: "stale-seq", client: "c", seq: 1, lastSeq: 2 },
    ]);
    assert.equal(machine.read("k"), null);
  });

  it("bounds its sessions without forgetting one that is in use: a new session past the bound is refused", () => {
    const machine = new KvStore({ sessions: { sessionsMax: 2 } });
    const results = applyAll(machine, ["a", "b", "c"].map((client) => ({ op: "delete", key: "k", client, seq: 1 })));
    assert.equal(machine.sessions.size, 2);
    assert.equal(results[2]?.kind, "sessions-full");
    assert.equal(machine.sessions.cachedResult("a", 1)?.kind, "delete");
  });

  it("expires sessions by the leader time the entries carry, never its own clock", () => {
    const machine = new KvStore({ sessions: { idleMsMax: 60_000 } });
    applyAll(machine, [
      { op: "put", key: "k", value: value(1), client: "old", seq: 1, atMs: 1_000 },
      { op: "put", key: "k", value: value(2), atMs: 30_000 },
      // A leader whose clock is behind does not turn the store's time back.
      { op: "put", key: "k", value: value(3), atMs: 5_000 },
    ]);
    assert.equal(machine.sessions.size, 1);
    const [expired] = applyAll(machine, [{ op: "put", key: "k", value: value(4), client: "old", seq: 2, atMs: 61_001 }]);
    assert.deepEqual(expired, { kind: "session-expired", client: "old", seq: 2 });
    assert.deepEqual(machine.read("k"), value(3), "the expired session's write was not applied");
  });
});

/** `count` random entries over few keys and clients: sessions advance, repeat (a retry) or go back (a stale duplicate). */
function randomCommands(seed: number, count: number): (KvCommand | null)[] {
  const random = new SeededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[random.intBetween(0, items.length - 1)] as T;
  const keys = Array.from({ length: 40 }, (_, at) => `key/${at}`);
  const values = [value(1), value("one"), value({ a: 1 }), value([1, 2]), value(null), Uint8Array.of(0xcd, 0, 1)];
  const commands: (KvCommand | null)[] = [];
  const seqs = new Map<string, number>();
  for (let at = 0; at < count; at++) {
    const roll = random.intBetween(0, 9);
    if (roll === 0) {
      commands.push(null);
      continue;
    }
    const client = pick(["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]);
    const seq = Math.max(1, (seqs.get(client) ?? 0) + random.intBetween(-1, 1));
    seqs.set(client, Math.max(seq, seqs.get(client) ?? 0));
    const session = random.intBetween(0, 1) === 0 ? {} : { client, seq };
    const key = pick(keys);
    if (roll <= 4) commands.push({ op: "put", key, value: pick(values), ...session });
    else if (roll <= 6) commands.push({ op: "delete", key, ...session });
    else commands.push({ op: "cas", key, expect: random.intBetween(0, 3) === 0 ? null : pick(values), value: pick(values), ...session });
  }
  return commands;
}

function assertSameState(actual: KvStore, expected: KvStore): void {
  assert.deepEqual(actual.list(), expected.list());
  assert.deepEqual([...actual.sessionRecords()], [...expected.sessionRecords()]);
  assert.equal(actual.lastApplied, expected.lastApplied);
}

describe("KvStore determinism", () => {
  it("ends identical on two machines fed the same 5,000 random entries", () => {
    const commands = randomCommands(2024, 5_000);
    const [first, second] = [new KvStore({ sessions: { sessionsMax: 5 } }), new KvStore({ sessions: { sessionsMax: 5 } })];
    const firstResults = applyAll(first, commands);
    const secondResults = applyAll(second, commands);
    assert.deepEqual(secondResults, firstResults);
    assertSameState(second, first);
    assert.ok(firstResults.some((result) => result?.kind === "stale-seq"), "the run exercised stale duplicates");
    assert.ok(firstResults.some((result) => result?.kind === "cas" && result.swapped), "the run exercised successful swaps");
  });
});

describe("KvStore query", () => {
  it("answers get and list from the applied state", () => {
    const machine = new KvStore();
    applyAll(machine, [
      { op: "put", key: "a/1", value: value(1) },
      { op: "put", key: "a/2", value: value(2) },
      { op: "put", key: "b", value: value(3) },
    ]);
    assert.deepEqual(machine.query({ op: "get", key: "a/2" }), { op: "get", value: value(2) });
    assert.deepEqual(machine.query({ op: "get", key: "c" }), { op: "get", value: null });
    assert.deepEqual(machine.query({ op: "list", prefix: "a/", limit: 1, bytesMax: 100 }), { op: "list", entries: [["a/1", value(1)]], more: true });
  });

  it("lists in pages: each starts after the last key of the one before, bounded by count and bytes", () => {
    const machine = new KvStore();
    const keys = Array.from({ length: 25 }, (_, at) => `p/${String(at).padStart(2, "0")}`);
    applyAll(machine, [{ op: "put", key: "o", value: value(0) }, ...keys.map((key) => ({ op: "put" as const, key, value: value(key) })), { op: "put", key: "q", value: value(0) }]);
    const read: string[] = [];
    let after: string | undefined;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10, "pages end");
      const answer = machine.query({ op: "list", prefix: "p/", ...(after === undefined ? {} : { after }), limit: 10, bytesMax: 1 << 20 });
      assert.ok(answer.op === "list");
      read.push(...answer.entries.map(([key]) => key));
      if (!answer.more) break;
      after = answer.entries.at(-1)?.[0];
    }
    assert.deepEqual(read, keys);
    // A byte bound smaller than one pair still returns that pair, so that every page makes progress.
    const tiny = machine.query({ op: "list", prefix: "p/", limit: 10, bytesMax: 1 });
    assert.ok(tiny.op === "list" && tiny.entries.length === 1 && tiny.more);
    // `after` below the prefix starts at the prefix; at or past its end, the page is empty.
    const below = machine.query({ op: "list", prefix: "p/", after: "a", limit: 1, bytesMax: 1 << 20 });
    assert.ok(below.op === "list" && below.entries[0]?.[0] === "p/00");
    assert.deepEqual(machine.query({ op: "list", prefix: "p/", after: "p/24", limit: 10, bytesMax: 1 << 20 }), { op: "list", entries: [], more: false });
  });
});

describe("KvStore watch", () => {
  const watchAll = { op: "watch", limit: 1000, bytesMax: 1 << 20 } as const;

  it("journals the changes that altered the store: puts, deletes of present keys, and swaps as puts", () => {
    const machine = new KvStore();
    applyAll(machine, [
      { op: "put", key: "a", value: value(1) },
      null,
      { op: "delete", key: "missing" },
      { op: "cas", key: "a", expect: value(9), value: value(2) },
      { op: "cas", key: "a", expect: value(1), value: value(3) },
      { op: "cas", key: "b", expect: null, value: value(4) },
      { op: "delete", key: "a" },
    ]);
    assert.deepEqual(machine.query({ ...watchAll, from: 1 }), {
      op: "watch",
      page: {
        kind: "events",
        events: [
          { index: 1, type: "put", key: "a", value: value(1) },
          { index: 5, type: "put", key: "a", value: value(3) },
          { index: 6, type: "put", key: "b", value: value(4) },
          { index: 7, type: "delete", key: "a" },
        ],
        next: 8,
      },
    });
  });

  it("journals a session's write once, however often it is retried", () => {
    const machine = new KvStore();
    const write: KvCommand = { op: "put", key: "k", value: value("first"), client: "c", seq: 1 };
    applyAll(machine, [write, write, { op: "delete", key: "k", client: "c", seq: 2 }, { op: "delete", key: "k", client: "c", seq: 2 }]);
    const answer = machine.query({ ...watchAll, from: 1 });
    assert.ok(answer.op === "watch" && answer.page.kind === "events");
    assert.deepEqual(answer.page.events.map((event) => [event.index, event.type]), [[1, "put"], [3, "delete"]]);
  });

  it("without `from`, serves the changes from the next entry it applies on", () => {
    const machine = new KvStore();
    applyAll(machine, [{ op: "put", key: "a", value: value(1) }]);
    assert.deepEqual(machine.query(watchAll), { op: "watch", page: { kind: "events", events: [], next: 2 } });
  });

  it("answers COMPACTED once its journal no longer reaches `from`", () => {
    const machine = new KvStore({ journal: { eventsMax: 2 } });
    applyAll(machine, [1, 2, 3, 4].map((n) => ({ op: "put" as const, key: `k${n}`, value: value(n) })));
    assert.deepEqual(machine.query({ ...watchAll, from: 2 }), { op: "watch", page: { kind: "compacted", oldest: 3 } });
    const answer = machine.query({ ...watchAll, from: 3, prefix: "k4" });
    assert.deepEqual(answer, { op: "watch", page: { kind: "events", events: [{ index: 4, type: "put", key: "k4", value: value(4) }], next: 5 } });
  });

  it("after a restore at index S, serves changes from S + 1 on, and nothing before", () => {
    const source = new KvStore();
    applyAll(source, [1, 2, 3].map((n) => ({ op: "put" as const, key: `k${n}`, value: value(n) })));
    const restored = new KvStore();
    applyAll(restored, [{ op: "put", key: "old", value: value(0) }]);
    restored.restore(3, source.takeSnapshot().chunks());
    assert.deepEqual(restored.query({ ...watchAll, from: 3 }), { op: "watch", page: { kind: "compacted", oldest: 4 } });
    applyAll(restored, [{ op: "delete", key: "k1" }]);
    assert.deepEqual(restored.query({ ...watchAll, from: 4 }), { op: "watch", page: { kind: "events", events: [{ index: 4, type: "delete", key: "k1" }], next: 5 } });
  });
});

describe("KvStore snapshots", () => {
  it("a replica restored from a snapshot goes on exactly as the one that took it", () => {
    const commands = randomCommands(77, 4_000);
    const source = new KvStore({ sessions: { sessionsMax: 5 } });
    applyAll(source, commands.slice(0, 2_000));
    const snapshot = source.takeSnapshot();
    const atSnapshot = new KvStore({ sessions: { sessionsMax: 5 } });
    applyAll(atSnapshot, commands.slice(0, 2_000));

    // The image is fixed when taken: entries applied afterwards do not leak into it.
    const sourceResults = applyAll(source, commands.slice(2_000));
    const restored = new KvStore({ sessions: { sessionsMax: 5 } });
    restored.restore(snapshot.lastApplied, snapshot.chunks());
    assert.equal(snapshot.lastApplied, 2_000);
    assertSameState(restored, atSnapshot);

    assert.deepEqual(applyAll(restored, commands.slice(2_000)), sourceResults);
    assertSameState(restored, source);
  });

  it("writes large stores in bounded chunks, and restoring replaces what was there", () => {
    const big = Uint8Array.from(packr.pack(new Uint8Array(300_000)));
    const source = new KvStore();
    applyAll(source, Array.from({ length: 12 }, (_, at) => ({ op: "put" as const, key: `big/${at}`, value: big })));
    const chunks = [...source.takeSnapshot().chunks()];
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    for (const chunk of chunks) assert.ok(chunk.length <= (1 << 20) + big.length + 1024, `a chunk of ${chunk.length} bytes`);

    const target = new KvStore();
    applyAll(target, [{ op: "put", key: "stale", value: value(0) }]);
    target.restore(12, chunks);
    assertSameState(target, source);
    assert.equal(target.read("stale"), null);
  });

  it("refuses chunks it did not write", () => {
    const machine = new KvStore();
    for (const chunk of [Uint8Array.of(0xc1), packr.pack({ other: [] }), packr.pack({ values: [[1, 2]] }), packr.pack({ sessions: [["c", 1]] })]) {
      assert.throws(() => machine.restore(1, [chunk]), SnapshotFormatError);
    }
  });
});
