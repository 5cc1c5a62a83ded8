/**
 * The read-back of src/bench/write-ledger.ts, against an in-memory store:
 * a key that holds its last acknowledged write, or a write of unknown
 * outcome made after it, passes; an older value or a missing key is a lost
 * write, and the report says so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WriteLedger } from "../../src/bench/write-ledger.ts";
import { formatVerification } from "../../src/bench/bench-report.ts";
import type { KvTarget } from "../../src/bench/kv-target.ts";

function memoryStore(data: Map<string, string>): () => KvTarget {
  return () => ({
    put: async (key, value) => void data.set(key, value),
    get: async (key) => data.get(key) ?? null,
    cas: async () => false,
    hidden: {},
    close: () => {},
  });
}

test("acknowledged writes read back: kept, kept by a later unknown write, lost", async () => {
  const ledger = new WriteLedger();
  ledger.acknowledged("a", "a1");
  ledger.acknowledged("b", "b1");
  ledger.unknown("b", "b2");
  ledger.acknowledged("c", "c1");
  ledger.acknowledged("c", "c2");
  ledger.acknowledged("d", "d1");
  ledger.unknown("never-acked", "x");
  assert.equal(ledger.known("a"), "a1");
  assert.equal(ledger.known("b"), undefined, "unknown after an unknown write");
  assert.equal(ledger.known("nothing"), null);

  const store = new Map([["a", "a1"], ["b", "b2"], ["c", "c1"]]);
  const verification = await ledger.verify(memoryStore(store));
  assert.equal(verification.checked, 4);
  assert.deepEqual(
    [...verification.lost].sort((x, y) => x.key.localeCompare(y.key)),
    [
      { key: "c", expected: "c2", read: "c1" },
      { key: "d", expected: "d1", read: null },
    ],
  );
  const lines = formatVerification(verification);
  assert.match(lines[0] ?? "", /^DATA LOST: 2 of 4 keys .* lost=2/);
  assert.equal(lines.length, 3);

  assert.deepEqual(formatVerification(await new WriteLedger().verify(memoryStore(new Map()))), ["verified: all 0 keys hold their last acknowledged write; lost=0"]);
});
