/**
 * Proves that KvStore applies committed entries as docs/protocol.md §5
 * describes (put, delete, cas and their results; list in UTF-8 key order with
 * prefix and limit), applies each write of a session at most once, refuses
 * entries out of order, and is deterministic: two machines fed the same
 * entries end in identical states with identical results (what State Machine
 * Safety, Raft paper §5.4.3, relies on), and that a replica restored from a
 * snapshot goes on exactly as the one that took it (dissertation ch. 5).
 * A snapshot image is checked before a follower discards its log for it, so
 * anything but an image the store wrote is refused, with a SnapshotFormatError
 * and nothing else.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { encodeCommand, type KvCommand } from "../../src/kv/commands.ts";
import type { KvResult } from "../../src/kv/kv-result.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import { decodeSnapshotChunks, encodeSnapshotChunks, kvSnapshotProblem, snapshotChunkBytes, SnapshotFormatError, type KvImage } from "../../src/kv/kv-snapshot.ts";
import type { SessionRecord } from "../../src/kv/sessions.ts";
import { AssertionError } from "../../src/base/assert.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";
import { SeededRandom } from "../../src/raft/index.ts";
import type { Entry } from "../../src/raft/index.ts";
import { anyInteger, msgpackValue, mutated, packableAnything } from "../fuzz/fuzz-support.ts";

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

  it("bounds chunks by their encoded bytes: sessions keeping large values, and pairs smaller than their framing", () => {
    const big = Uint8Array.from(packr.pack(new Uint8Array(300_000)));
    const machine = new KvStore();
    applyAll(machine, Array.from({ length: 20 }, (_, at) => ({ op: "cas" as const, key: `big/${at}`, expect: null, value: big, client: `c${at}`, seq: 1 })));
    const sessionChunks = [...machine.takeSnapshot().chunks()].filter((chunk) => Buffer.from(chunk).includes("sessions"));
    assert.ok(sessionChunks.length >= 4, `${sessionChunks.length} chunks of sessions`);
    for (const chunk of sessionChunks) assert.ok(chunk.length <= snapshotChunkBytes + big.length + 1024, `a chunk of ${chunk.length} bytes`);

    // Six bytes of MessagePack for every two bytes of key and value.
    const tiny = { entries: Array.from({ length: 600_000 }, (): [string, Uint8Array] => ["k", Uint8Array.of(0xc0)]), sessions: [], clockMs: 5 };
    const tinyChunks = [...encodeSnapshotChunks(tiny)];
    for (const chunk of tinyChunks) assert.ok(chunk.length <= snapshotChunkBytes, `a chunk of ${chunk.length} bytes`);
    assert.equal(decodeSnapshotChunks(tinyChunks).entries.length, tiny.entries.length);
  });

  it("refuses chunks it did not write", () => {
    const machine = new KvStore();
    for (const chunk of [Uint8Array.of(0xc1), packr.pack({ other: [] }), packr.pack({ values: [[1, 2]] }), packr.pack({ sessions: [["c", 1]] })]) {
      assert.throws(() => machine.restore(1, [chunk]), SnapshotFormatError);
    }
  });
});

describe("KV snapshot images", () => {
  const put = { kind: "put", index: 3 };
  const row = (result: unknown = put): unknown[] => ["c1", 2, 3, 1_000, result];
  const clock = packr.pack({ clockMs: 1_000 });
  const image = (...chunks: unknown[]): Uint8Array[] => [...chunks.map((chunk) => packr.pack(chunk)), clock];
  const valid = [...encodeSnapshotChunks({ entries: [["k", value(1)]], sessions: [["c1", { lastSeq: 2, lastIndex: 3, lastAtMs: 1_000, lastResult: { kind: "put", index: 3 } }]], clockMs: 1_000 })];

  /** An index past every session's last write, for the cases about the format. */
  const anyIndex = Number.MAX_SAFE_INTEGER;

  it("kvSnapshotProblem refuses an image with a session written after the snapshot's index: applying past it would assert", () => {
    assert.equal(kvSnapshotProblem(valid, 3), null);
    assert.match(kvSnapshotProblem(valid, 2) ?? "", /session "c1" last wrote at entry 3, after the snapshot's 2/);
  });

  it("kvSnapshotProblem finds nothing wrong with an image the store wrote, an empty store's too", () => {
    assert.equal(kvSnapshotProblem(valid, anyIndex), null);
    assert.equal(kvSnapshotProblem(encodeSnapshotChunks({ entries: [], sessions: [], clockMs: 0 }), anyIndex), null);
    const machine = new KvStore();
    applyAll(machine, randomCommands(5, 500));
    assert.equal(kvSnapshotProblem(machine.takeSnapshot().chunks(), anyIndex), null);
  });

  it("kvSnapshotProblem names what is wrong: truncated MessagePack, wrong types, extra fields, a missing or misplaced clock", () => {
    const [values, sessions] = valid as [Uint8Array, Uint8Array, Uint8Array];
    const cases: [string, Iterable<Uint8Array>, string][] = [
      ["no chunks", [], "ends before its clock chunk"],
      ["no clock", [values, sessions], "ends before its clock chunk"],
      ["truncated", [values.subarray(0, values.length - 1), clock], "not MessagePack"],
      ["empty", [new Uint8Array(0), clock], "not MessagePack"],
      ["an unknown extension", [Uint8Array.of(0xd4, 0x63, 0x00), clock], "not MessagePack"],
      // Never used in MessagePack: msgpackr reads it as a marker object.
      ["0xc1", [Uint8Array.of(0xc1), clock], "not a map of one field"],
      ["trailing bytes", [Uint8Array.from([...values, 0xc0]), clock], "not MessagePack"],
      ["nested past the stack", [Uint8Array.from([...new Uint8Array(1_000_000).fill(0x91), 0xc0]), clock], "not MessagePack"],
      ["an array", image([[["k", value(1)]]]), "not a map of one field"],
      ["a number", image(7), "not a map of one field"],
      ["binary", image(value(1)), "not a map of one field"],
      ["two fields", image({ values: [["k", value(1)]], sessions: [row()] }), "not a map of one field"],
      ["an extra field", image({ values: [["k", value(1)]], extra: 1 }), "not a map of one field"],
      ["an extra field by the clock", [packr.pack({ clockMs: 1, extra: 1 })], "not a map of one field"],
      ["an unknown field", image({ other: [] }), "holds neither values, sessions nor the clock"],
      ["values not an array", image({ values: { k: value(1) } }), "holds neither values, sessions nor the clock"],
      ["a numeric key", image({ values: [[1, value(1)]] }), "snapshot pair"],
      ["a string value", image({ values: [["k", "v"]] }), "snapshot pair"],
      ["a pair of one", image({ values: [["k"]] }), "snapshot pair"],
      ["a pair of three", image({ values: [["k", value(1), value(2)]] }), "snapshot pair"],
      ["a pair not an array", image({ values: ["k"] }), "snapshot pair"],
      ["a negative seq", image({ sessions: [["c1", -1, 3, 1_000, put]] }), "snapshot session is not"],
      ["a fractional time", image({ sessions: [["c1", 2, 3, 1.5, put]] }), "snapshot session is not"],
      ["a binary client", image({ sessions: [[value("c1"), 2, 3, 1_000, put]] }), "snapshot session is not"],
      ["a session row of four", image({ sessions: [row().slice(0, 4)] }), "snapshot session is not"],
      ["a session row of six", image({ sessions: [[...row(), 0]] }), "snapshot session is not"],
      ["an unknown result", image({ sessions: [row({ kind: "get", index: 3 })] }), "result is malformed"],
      ["a result without index", image({ sessions: [row({ kind: "put" })] }), "result is malformed"],
      ["a result with an extra field", image({ sessions: [row({ ...put, found: true })] }), "result is malformed"],
      ["a delete without found", image({ sessions: [row({ kind: "delete", index: 3 })] }), "result is malformed"],
      ["a cas with a string value", image({ sessions: [row({ kind: "cas", index: 3, swapped: true, value: "v" })] }), "result is malformed"],
      ["a result not a map", image({ sessions: [row([put])] }), "result is malformed"],
      ["a negative clock", [packr.pack({ clockMs: -1 })], "holds neither values, sessions nor the clock"],
      ["a clock as a string", [packr.pack({ clockMs: "1000" })], "holds neither values, sessions nor the clock"],
      ["a clock past 2^53", [packr.pack({ clockMs: 2 ** 64 })], "holds neither values, sessions nor the clock"],
      ["a chunk after the clock", [clock, values], "follows the clock chunk"],
      ["two clocks", [clock, clock], "follows the clock chunk"],
    ];
    for (const [name, chunks, reason] of cases) {
      const problem = kvSnapshotProblem(chunks, anyIndex);
      assert.ok(problem?.includes(reason), `${name}: ${problem}`);
    }
    // A good cas result, and a delete, are accepted next to each other.
    const results = [
      { kind: "cas", index: 3, swapped: false, value: null },
      { kind: "cas", index: 3, swapped: true, value: value(2) },
      { kind: "delete", index: 3, found: false },
    ];
    assert.equal(kvSnapshotProblem(image({ sessions: results.map((result) => row(result)) }), anyIndex), null);
  });

  it("kvSnapshotProblem lets other errors through: a storage that fails to read is not a bad image", () => {
    const failing: Iterable<Uint8Array> = {
      *[Symbol.iterator]() {
        yield clock;
        throw new Error("disk on fire");
      },
    };
    assert.throws(() => kvSnapshotProblem(failing, anyIndex), /disk on fire/);
  });

  const text = fc.string({ unit: "binary", maxLength: 12 });
  const bytes = fc.uint8Array({ maxLength: 24 });
  const count = fc.oneof(fc.nat({ max: 1_000 }), fc.maxSafeNat());
  const result: fc.Arbitrary<KvResult> = fc.oneof(
    fc.record({ kind: fc.constant("put" as const), index: count }),
    fc.record({ kind: fc.constant("delete" as const), index: count, found: fc.boolean() }),
    fc.record({ kind: fc.constant("cas" as const), index: count, swapped: fc.boolean(), value: fc.option(bytes) }),
  );
  const session: fc.Arbitrary<[string, SessionRecord]> = fc.tuple(text, fc.record({ lastSeq: count, lastIndex: count, lastAtMs: count, lastResult: result }));
  const kvImage: fc.Arbitrary<KvImage> = fc.record({ entries: fc.array(fc.tuple(text, bytes), { maxLength: 6 }), sessions: fc.array(session, { maxLength: 4 }), clockMs: count });
  /** An image as plain data (fast-check's records have no prototype; decoded values are views), for comparing. */
  const comparable = (image: KvImage): unknown =>
    JSON.parse(JSON.stringify(image, (_, item: unknown) => (item instanceof Uint8Array ? { bin: Array.from(item) } : item)));

  it("property: every image survives encode then decode", () => {
    fc.assert(
      fc.property(kvImage, (image) => {
        const chunks = [...encodeSnapshotChunks(image)];
        assert.equal(kvSnapshotProblem(chunks, anyIndex), null);
        assert.deepEqual(comparable(decodeSnapshotChunks(chunks)), comparable(image));
      }),
      { seed: 0x5a9, numRuns: 300, includeErrorInReport: true },
    );
  });

  /** Near misses of an image's parts: the right names with values of any type, beside valid ones. */
  const anyValue = fc.oneof(msgpackValue, anyInteger, fc.constantFrom(-1, 0.5, 2 ** 53, Number.NaN, null, "put", "cas", "delete"));
  const nearResult = fc.oneof(
    result,
    fc.dictionary(fc.constantFrom("kind", "index", "found", "swapped", "value", "__proto__"), fc.oneof(anyValue, fc.constantFrom("put", "delete", "cas"), fc.boolean(), bytes)),
  );
  const nearRow = fc.oneof(
    session.map(([client, record]) => [client, record.lastSeq, record.lastIndex, record.lastAtMs, record.lastResult]),
    fc.tuple(fc.oneof(text, anyValue), fc.oneof(count, anyValue), fc.oneof(count, anyValue), fc.oneof(count, anyValue), nearResult),
    fc.array(anyValue, { maxLength: 6 }),
  );
  const nearPair = fc.oneof(fc.tuple(text, bytes), fc.tuple(fc.oneof(text, anyValue), fc.oneof(bytes, anyValue)), fc.array(fc.oneof(text, bytes, anyValue), { maxLength: 3 }));
  const nearChunk: fc.Arbitrary<unknown> = fc.oneof(
    fc.record({ values: fc.array(nearPair, { maxLength: 4 }) }),
    fc.record({ sessions: fc.array(nearRow, { maxLength: 3 }) }),
    fc.record({ clockMs: fc.oneof(count, anyValue) }),
    fc.dictionary(fc.constantFrom("values", "sessions", "clockMs", "__proto__", "constructor"), fc.oneof(fc.array(nearPair, { maxLength: 2 }), fc.array(nearRow, { maxLength: 2 }), count, anyValue), {
      maxKeys: 3,
    }),
    anyValue,
  );
  const hostileChunk: fc.Arbitrary<Uint8Array> = fc.oneof(
    nearChunk.map((chunk) => Uint8Array.from(packr.pack(chunk))),
    mutated(kvImage.chain((image) => fc.constantFrom(...encodeSnapshotChunks(image)))),
    packableAnything,
    fc.uint8Array({ maxLength: 64 }),
  );
  const hostileImage = fc.oneof(
    fc.array(hostileChunk, { maxLength: 4 }),
    fc.tuple(fc.array(hostileChunk, { maxLength: 3 }), fc.nat()).map(([chunks, clockMs]) => [...chunks, Uint8Array.from(packr.pack({ clockMs }))]),
    kvImage.chain((image) => mutated(fc.constant(Uint8Array.from(Buffer.concat([...encodeSnapshotChunks(image)]))))).map((bytes) => [bytes]),
  );

  it("property: decodeSnapshotChunks refuses what is not an image with a SnapshotFormatError only, and what it accepts is an image", () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostileImage, (chunks) => {
        let decoded: KvImage;
        try {
          decoded = decodeSnapshotChunks(chunks);
        } catch (error) {
          assert.ok(error instanceof SnapshotFormatError, `threw ${String(error)}`);
          assert.equal(kvSnapshotProblem(chunks, anyIndex), error.message);
          return;
        }
        accepted++;
        assert.equal(kvSnapshotProblem(chunks, anyIndex), null);
        // An accepted image is one the store could have written: it encodes back to chunks that decode the same.
        assert.deepEqual(comparable(decodeSnapshotChunks([...encodeSnapshotChunks(decoded)])), comparable(decoded));
        for (const [key, bytesOfValue] of decoded.entries) assert.ok(typeof key === "string" && bytesOfValue instanceof Uint8Array);
        for (const [client, record] of decoded.sessions) {
          assert.equal(typeof client, "string");
          const { lastResult } = record;
          assert.ok(lastResult.kind === "put" || lastResult.kind === "delete" || lastResult.kind === "cas", lastResult.kind);
          for (const field of [record.lastSeq, record.lastIndex, record.lastAtMs, lastResult.index]) assert.ok(Number.isSafeInteger(field) && field >= 0);
        }
      }),
      { seed: 0x5aa, numRuns: 3_000, includeErrorInReport: true },
    );
    assert.ok(accepted > 0, "some hostile images are images, so the acceptance checks ran");
  });
});
