/**
 * The one mapping between the client protocol and the KV store: requests
 * become the commands and queries the store knows, and results and answers
 * become the replies of docs/protocol.md §5.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { listPageBytesMax, listPageEntriesMax, watchPageBytesMax, watchPageEventsMax } from "../../src/protocol/limits.ts";
import { commandOf, queryOf, replyOfAnswer, replyOfResult, watchQueryOf } from "../../src/service/kv-mapping.ts";

const context = { term: 3, leaderId: 2, rid: null } as const;
const raw = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

describe("kv-mapping", () => {
  it("turns writes into commands, keeping the session and leaving the rid behind", () => {
    assert.deepEqual(commandOf({ op: "put", key: "k", value: raw(1), client: "c", seq: 4, rid: raw(0xc0) }, 1234), {
      op: "put",
      key: "k",
      value: raw(1),
      client: "c",
      seq: 4,
      atMs: 1234,
    });
    assert.deepEqual(commandOf({ op: "delete", key: "k", rid: null }, 5), { op: "delete", key: "k", atMs: 5 });
    assert.deepEqual(commandOf({ op: "cas", key: "k", expect: null, value: raw(2), rid: null }, 5), { op: "cas", key: "k", expect: null, value: raw(2), atMs: 5 });
  });

  it("turns reads into queries", () => {
    assert.deepEqual(queryOf({ op: "get", key: "k", stale: true, rid: null }), { op: "get", key: "k" });
    // Every list is one bounded page (docs/protocol.md §4), whatever limit the request named.
    assert.deepEqual(queryOf({ op: "list", stale: false, rid: null }), { op: "list", limit: listPageEntriesMax, bytesMax: listPageBytesMax });
    assert.deepEqual(queryOf({ op: "list", prefix: "p", after: "p/3", limit: 3, stale: false, rid: null }), {
      op: "list",
      prefix: "p",
      after: "p/3",
      limit: 3,
      bytesMax: listPageBytesMax,
    });
    assert.equal((queryOf({ op: "list", limit: Number.MAX_SAFE_INTEGER, stale: false, rid: null }) as { limit: number }).limit, listPageEntriesMax);
  });

  it("turns a watch into one bounded page of its journal, and a journal page into its reply", () => {
    assert.deepEqual(watchQueryOf({ op: "watch", waitMs: 0, rid: null }), { op: "watch", limit: watchPageEventsMax, bytesMax: watchPageBytesMax });
    assert.deepEqual(watchQueryOf({ op: "watch", prefix: "p/", from: 9, limit: 3, waitMs: 10, rid: null }), {
      op: "watch",
      prefix: "p/",
      from: 9,
      limit: 3,
      bytesMax: watchPageBytesMax,
    });
    assert.equal(watchQueryOf({ op: "watch", limit: Number.MAX_SAFE_INTEGER, waitMs: 0, rid: null }).limit, watchPageEventsMax);
    const events = [{ index: 9, type: "delete", key: "p/a" }] as const;
    assert.deepEqual(replyOfAnswer({ op: "watch", page: { kind: "events", events, next: 12 } }, context), { ...context, ok: true, op: "watch", events, next: 12 });
    const compacted = replyOfAnswer({ op: "watch", page: { kind: "compacted", oldest: 40 } }, context);
    assert.ok(!compacted.ok);
    assert.deepEqual([compacted.error, compacted.oldest], ["COMPACTED", 40]);
    assert.match(compacted.message, /changes before index 40 are no longer kept/);
  });

  it("turns answers and results into replies", () => {
    assert.deepEqual(replyOfAnswer({ op: "get", value: null }, context), { ...context, op: "get", value: null, found: false, ok: true });
    assert.deepEqual(replyOfAnswer({ op: "list", entries: [["a", raw(1)]], more: true }, context), {
      ...context,
      op: "list",
      entries: [["a", raw(1)]],
      more: true,
      ok: true,
    });
    assert.deepEqual(replyOfResult({ kind: "delete", index: 9, found: true }, context), { ...context, op: "delete", index: 9, found: true, ok: true });
    assert.deepEqual(replyOfResult({ kind: "cas", index: 9, swapped: false, value: raw(5) }, context), {
      ...context,
      op: "cas",
      index: 9,
      swapped: false,
      value: raw(5),
      ok: true,
    });
  });

  it("answers a write from an unknown or expired session SESSION_EXPIRED, and a full session table TIMEOUT, saying it was not applied", () => {
    const expired = replyOfResult({ kind: "session-expired", client: "c", seq: 7 }, context);
    assert.ok(!expired.ok && expired.error === "SESSION_EXPIRED" && /seq 7 was not applied; start a new session/.test(expired.message));
    const full = replyOfResult({ kind: "sessions-full", sessions: 100_000, bytes: 5 }, context);
    assert.ok(!full.ok && full.error === "TIMEOUT" && /session table is full \(100000 sessions, 5 bytes\) and the write was not applied/.test(full.message));
  });

  it("answers a stale duplicate BAD_REQUEST, saying why it was not applied", () => {
    const reply = replyOfResult({ kind: "stale-seq", client: "c", seq: 2, lastSeq: 3 }, context);
    assert.equal(reply.ok, false);
    assert.equal(!reply.ok && reply.error, "BAD_REQUEST");
    assert.match(!reply.ok ? reply.message : "", /seq 2 of client "c" is below the last seq this session applied \(3\)/);
  });
});
