/**
 * Proves the exactly-once rule of SessionTable (docs/protocol.md §8; the Raft
 * dissertation §6.3): a write runs once per (client, seq), a retry of the
 * last seq gets the original result without running again, an older seq is
 * refused as stale; and that the table stays bounded without ever letting a
 * retry apply twice: a session is forgotten only after idling past
 * idleMsMax of leader time, a write from a session it does not know runs
 * only when it opens one (seq 1), and a write that needs room the table
 * does not have is refused, not run.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { KvResult } from "../../src/kv/kv-result.ts";
import { SessionTable, sessionLimitsDefault, type SessionLimits } from "../../src/kv/sessions.ts";
import { AssertionError } from "../../src/base/assert.ts";

const limits = (overrides: Partial<SessionLimits>): SessionLimits => ({ ...sessionLimitsDefault, ...overrides });

/** Applies a put through the table at leader time `atMs` and reports whether it actually ran. */
function put(table: SessionTable, client: string, seq: number, index: number, atMs = index): { ran: boolean; result: KvResult } {
  let ran = false;
  const result = table.applyOnce({ client, seq, index, atMs, resultBytesMax: 0 }, () => {
    ran = true;
    return { kind: "put", index };
  });
  return { ran, result };
}

describe("SessionTable", () => {
  it("runs a write once and answers its retries with the original result", () => {
    const table = new SessionTable();
    assert.deepEqual(put(table, "c", 1, 10), { ran: true, result: { kind: "put", index: 10 } });
    assert.deepEqual(put(table, "c", 1, 11), { ran: false, result: { kind: "put", index: 10 } });
    assert.deepEqual(put(table, "c", 1, 12), { ran: false, result: { kind: "put", index: 10 } });
    assert.deepEqual(table.cachedResult("c", 1), { kind: "put", index: 10 });
  });

  it("runs each new seq of a session, gaps allowed", () => {
    const table = new SessionTable();
    assert.equal(put(table, "c", 1, 1).ran, true);
    assert.equal(put(table, "c", 5, 2).ran, true);
    assert.equal(table.cachedResult("c", 6), null);
    assert.deepEqual(table.cachedResult("c", 5), { kind: "put", index: 2 });
  });

  it("refuses an older seq as stale without running it", () => {
    const table = new SessionTable();
    put(table, "c", 1, 1);
    put(table, "c", 3, 2);
    const stale = put(table, "c", 2, 3);
    assert.deepEqual(stale, { ran: false, result: { kind: "stale-seq", client: "c", seq: 2, lastSeq: 3 } });
    assert.deepEqual(table.cachedResult("c", 1), { kind: "stale-seq", client: "c", seq: 1, lastSeq: 3 });
  });

  it("keeps clients apart", () => {
    const table = new SessionTable();
    assert.equal(put(table, "a", 1, 1).ran, true);
    assert.equal(put(table, "b", 1, 2).ran, true);
    assert.equal(table.cachedResult("c", 1), null);
  });

  it("runs a write from an unknown session only when it opens one: any later seq is refused as expired", () => {
    const table = new SessionTable();
    assert.deepEqual(put(table, "ghost", 4, 1), { ran: false, result: { kind: "session-expired", client: "ghost", seq: 4 } });
    assert.equal(table.cachedResult("ghost", 4), null, "only applying decides: the session's first write may still be on its way");
    assert.equal(table.size, 0);
  });

  it("is never pushed out by other sessions: when full, a new session's write is refused, and every retry still gets its original result", () => {
    const table = new SessionTable(limits({ sessionsMax: 3 }));
    put(table, "victim", 1, 1);
    put(table, "b", 1, 2);
    put(table, "c", 1, 3);
    // An attacker opens more sessions than the table holds (this used to evict the least recently used: "victim").
    for (let i = 0; i < 10; i++) assert.deepEqual(put(table, `attacker-${i}`, 1, 4 + i), { ran: false, result: { kind: "sessions-full", sessions: 3, bytes: table.bytes } });
    assert.deepEqual(put(table, "victim", 1, 20), { ran: false, result: { kind: "put", index: 1 } }, "the retry is answered, not applied again");
    assert.equal(put(table, "victim", 2, 21).ran, true, "a known session writes on");
  });

  it("counts bytes: a write whose result could outgrow bytesMax is refused, not run", () => {
    const table = new SessionTable(limits({ bytesMax: 1_000 }));
    const cas = (client: string, seq: number, index: number, bytes: number) =>
      table.applyOnce({ client, seq, index, atMs: index, resultBytesMax: bytes }, () => ({ kind: "cas", index, swapped: true, value: new Uint8Array(bytes) }));
    assert.equal(cas("a", 1, 1, 500).kind, "cas");
    assert.ok(table.bytes > 500 && table.bytes < 1_000, `${table.bytes} bytes`);
    assert.equal(cas("b", 1, 2, 600).kind, "sessions-full");
    // Replacing a session's own result frees what it kept.
    assert.equal(cas("a", 2, 3, 800).kind, "cas");
    assert.equal(cas("a", 3, 4, 10).kind, "cas");
    assert.ok(table.bytes < 300, `${table.bytes} bytes after the big result was replaced`);
  });

  it("forgets a session idle past idleMsMax of leader time, and only then", () => {
    const table = new SessionTable(limits({ idleMsMax: 1_000 }));
    put(table, "idle", 1, 1, 0);
    put(table, "busy", 1, 2, 0);
    put(table, "busy", 2, 3, 900);
    table.expire(1_000);
    assert.equal(table.size, 2, "exactly idleMsMax idle is not yet too long");
    put(table, "busy", 3, 4, 1_500);
    assert.equal(table.size, 1, "idle was forgotten on the write at 1500");
    assert.deepEqual(put(table, "idle", 2, 5, 1_600).result, { kind: "session-expired", client: "idle", seq: 2 });
    assert.equal(put(table, "busy", 3, 6, 1_600).ran, false, "busy's retry is still answered");
  });

  it("answers cachedResult without changing anything", () => {
    const table = new SessionTable(limits({ idleMsMax: 100 }));
    put(table, "a", 1, 1, 0);
    put(table, "b", 1, 2, 50);
    table.cachedResult("a", 1);
    table.expire(120);
    assert.equal(table.size, 1, "a read of a does not keep it alive");
    assert.equal(table.cachedResult("a", 1), null);
    assert.deepEqual(table.cachedResult("b", 1), { kind: "put", index: 2 });
  });

  it("asserts that an index is applied once per session and that limits are positive", () => {
    const table = new SessionTable();
    put(table, "a", 1, 5);
    assert.throws(() => put(table, "a", 2, 5), AssertionError);
    assert.throws(() => new SessionTable(limits({ sessionsMax: 0 })), AssertionError);
  });
});
