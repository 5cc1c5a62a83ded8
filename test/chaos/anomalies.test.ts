/**
 * The chaos run's quick counts on hand-made histories (src/chaos/anomalies.ts):
 * a write that was necessarily last and then not read back is lost; one
 * that another write may have overwritten is not; a write of unknown
 * outcome stops counting once a later write of its session was
 * acknowledged (docs/protocol.md §8); a value read, then another, then the
 * first again, in real-time order, is duplicated; overlapping reads are
 * not. And the checker's history keeps exactly what it should.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { findAnomalies } from "../../src/chaos/anomalies.ts";
import { checkerHistory, type OpRecord } from "../../src/chaos/history.ts";

let nextSeq = 1;

function put(value: string, callMs: number, returnMs: number, outcome: OpRecord["outcome"] = "ok", session = "s1"): OpRecord {
  return {
    process: 0,
    client: 0,
    session,
    seq: nextSeq++,
    op: { kind: "put", key: "k", value },
    callMs,
    returnMs,
    outcome,
    output: outcome === "ok" ? { kind: "put" } : null,
    final: false,
  };
}

function get(value: string | null, callMs: number, returnMs: number, final = false): OpRecord {
  return { process: 1, client: 1, session: "r", seq: null, op: { kind: "get", key: "k" }, callMs, returnMs, outcome: "ok", output: { kind: "get", value }, observed: value, final };
}

test("an acknowledged write that was necessarily last and then not read back is lost", () => {
  const history = [put("a", 0, 10), put("b", 20, 30), get("a", 40, 41, true)];
  assert.deepEqual(findAnomalies(history).lost, [{ key: "k", value: "b", observedInstead: "a" }]);
  assert.deepEqual(findAnomalies([put("a", 0, 10), put("b", 20, 30), get("b", 40, 41, true)]).lost, []);
  // Read back as absent: lost too.
  assert.equal(findAnomalies([put("a", 0, 10), get(null, 20, 21)]).lost.length, 1);
});

test("a write that another may have overwritten is not counted", () => {
  // Concurrent acknowledged writes: either may be last.
  assert.deepEqual(findAnomalies([put("a", 0, 10), put("b", 5, 15, "ok", "s2"), get("a", 20, 21)]).lost, []);
  // A write of unknown outcome, never bounded, may take effect at any time.
  assert.deepEqual(findAnomalies([put("x", 0, 5, "unknown", "s2"), put("b", 20, 30), get("x", 40, 41)]).lost, []);
  // ... unless a later write of its session was acknowledged before: then it cannot take effect after that.
  const bounded = [put("x", 0, 5, "unknown", "s2"), put("y", 6, 8, "ok", "s2"), put("b", 20, 30), get("y", 40, 41)];
  assert.deepEqual(findAnomalies(bounded).lost, [{ key: "k", value: "b", observedInstead: "y" }]);
});

test("a value seen again after another value was seen in between is duplicated, in real-time order only", () => {
  const history = [put("v", 0, 1), put("u", 2, 3), get("v", 4, 5), get("u", 6, 7), get("v", 8, 9)];
  assert.deepEqual(findAnomalies(history).duplicated, [{ key: "k", value: "v", between: "u" }]);
  // The read of u overlaps a read of v: no order between them, nothing proven.
  assert.deepEqual(findAnomalies([put("v", 0, 1), put("u", 2, 3), get("v", 4, 7), get("u", 6, 8), get("v", 7.5, 9)]).duplicated, []);
  // Absent in between is not a duplicate (no delete exists, but absent is left to the checker).
  assert.deepEqual(findAnomalies([put("v", 0, 1), get("v", 4, 5), get(null, 6, 7), get("v", 8, 9)]).duplicated, []);
});

test("the checker's history: completed ops with outputs, unknown writes open, unknown reads and refusals left out", () => {
  const unknownGet: OpRecord = { ...get(null, 0, 1), outcome: "unknown", output: null };
  delete (unknownGet as { observed?: unknown }).observed;
  const refused = put("r", 0, 1, "refused");
  const records = [put("a", 0, 1), put("b", 2, 3, "unknown"), unknownGet, refused, get("a", 4, 5)];
  const history = checkerHistory(records);
  assert.deepEqual(
    history.map((entry) => [entry.op.kind, entry.result === null ? "open" : entry.result.output.kind]),
    [
      ["put", "put"],
      ["put", "open"],
      ["get", "get"],
    ],
  );
});
