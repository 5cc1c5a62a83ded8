/**
 * Proves the exactly-once rule of SessionTable (docs/protocol.md §8; the Raft
 * dissertation §6.3): a write runs once per (client, seq), a retry of the
 * last seq gets the original result without running again, an older seq is
 * refused as stale, and at most sessionsMax sessions are kept, evicting the
 * least recently used by log index, deterministically.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { KvResult } from "../../src/kv/kv-result.ts";
import { SessionTable } from "../../src/kv/sessions.ts";
import { AssertionError } from "../../src/base/assert.ts";

/** Applies a put through the table and reports whether it actually ran. */
function put(table: SessionTable, client: string, seq: number, index: number): { ran: boolean; result: KvResult } {
  let ran = false;
  const result = table.applyOnce(client, seq, index, () => {
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

  it("runs each new seq, gaps allowed", () => {
    const table = new SessionTable();
    assert.equal(put(table, "c", 1, 1).ran, true);
    assert.equal(put(table, "c", 5, 2).ran, true);
    assert.equal(table.cachedResult("c", 6), null);
    assert.deepEqual(table.cachedResult("c", 5), { kind: "put", index: 2 });
  });

  it("refuses an older seq as stale without running it", () => {
    const table = new SessionTable();
    put(table, "c", 3, 1);
    const stale = put(table, "c", 2, 2);
    assert.deepEqual(stale, { ran: false, result: { kind: "stale-seq", client: "c", seq: 2, lastSeq: 3 } });
    assert.deepEqual(table.cachedResult("c", 1), { kind: "stale-seq", client: "c", seq: 1, lastSeq: 3 });
  });

  it("keeps clients apart", () => {
    const table = new SessionTable();
    assert.equal(put(table, "a", 1, 1).ran, true);
    assert.equal(put(table, "b", 1, 2).ran, true);
    assert.equal(table.cachedResult("c", 1), null);
  });

  it("answers cachedResult without changing anything", () => {
    const table = new SessionTable(2);
    put(table, "a", 1, 1);
    put(table, "b", 1, 2);
    table.cachedResult("a", 1);
    put(table, "c", 1, 3);
    assert.equal(table.cachedResult("a", 1), null, "a stayed least recent: reads do not count as use");
  });

  it("evicts the least recently used session by log index", () => {
    const table = new SessionTable(3);
    put(table, "a", 1, 1);
    put(table, "b", 1, 2);
    put(table, "c", 1, 3);
    put(table, "a", 1, 4); // a retry counts as use
    put(table, "d", 1, 5); // evicts b
    assert.equal(table.size, 3);
    assert.deepEqual([...table.records()].map(([client, record]) => [client, record.lastIndex]), [["c", 3], ["a", 4], ["d", 5]]);
    assert.equal(table.cachedResult("b", 1), null);
    assert.equal(put(table, "b", 1, 6).ran, true, "a forgotten session starts over");
  });

  it("asserts that an index is applied once per session and that the bound is positive", () => {
    const table = new SessionTable();
    put(table, "a", 1, 5);
    assert.throws(() => put(table, "a", 2, 5), AssertionError);
    assert.throws(() => new SessionTable(0), AssertionError);
  });
});
