/**
 * Proves the linearizability checker on hand-made histories: it accepts
 * every history a register could have produced (concurrent operations in
 * either order, writes of unknown outcome applied or not), catches each kind
 * of anomaly a broken replication produces (stale reads, lost writes,
 * values from nowhere, writes applied twice, wrong cas results), names the
 * key at fault, scales to a chaos run's history, and gives up within its
 * budget instead of running on.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { checkLinearizable, partitionByKey, type CheckResult, type HistoryEntry } from "../../src/linearizability/index.ts";
import { AssertionError } from "../../src/base/assert.ts";
import { randomHistory } from "./random-history.ts";

/** A completed put by `process` over [callMs, returnMs]; returnMs null: outcome unknown. */
function put(process: number, value: string, callMs: number, returnMs: number | null, key = "k"): HistoryEntry {
  return { process, op: { kind: "put", key, value }, callMs, result: returnMs === null ? null : { returnMs, output: { kind: "put" } } };
}

function get(process: number, value: string | null, callMs: number, returnMs: number | null, key = "k"): HistoryEntry {
  return { process, op: { kind: "get", key }, callMs, result: returnMs === null ? null : { returnMs, output: { kind: "get", value } } };
}

/** `swapped` null: outcome unknown. */
function cas(process: number, expect: string | null, value: string, swapped: boolean | null, callMs: number, returnMs: number, key = "k"): HistoryEntry {
  return {
    process,
    op: { kind: "cas", key, expect, value },
    callMs,
    result: swapped === null ? null : { returnMs, output: { kind: "cas", swapped } },
  };
}

function assertLinearizable(history: readonly HistoryEntry[]): void {
  const result = checkLinearizable(history);
  assert.equal(result.verdict, "linearizable", result.verdict === "not-linearizable" ? result.explanation : JSON.stringify(result));
}

function assertViolation(history: readonly HistoryEntry[], key = "k"): Extract<CheckResult, { verdict: "not-linearizable" }> {
  const result = checkLinearizable(history);
  assert.equal(result.verdict, "not-linearizable", JSON.stringify(result));
  assert.ok(result.verdict === "not-linearizable");
  assert.equal(result.key, key);
  return result;
}

describe("checkLinearizable accepts what a register could do", () => {
  it("accepts an empty history", () => {
    assert.deepEqual(checkLinearizable([]), { verdict: "linearizable", keys: 0, operations: 0, elapsedMs: 0 });
  });

  it("accepts sequential operations, reporting keys and operations", () => {
    const history = [
      get(1, null, 0, 1),
      put(1, "a", 2, 3),
      get(2, "a", 4, 5),
      cas(1, "a", "b", true, 6, 7),
      cas(2, "a", "c", false, 8, 9),
      get(3, "b", 10, 11),
      cas(3, null, "d", true, 12, 13, "other"),
    ];
    assert.deepEqual(checkLinearizable(history), { verdict: "linearizable", keys: 2, operations: 7, elapsedMs: 0 });
  });

  it("lets a get overlapping a put see either the old value or the new", () => {
    for (const seen of ["a", "b"]) {
      assertLinearizable([put(1, "a", 0, 1), put(1, "b", 10, 20), get(2, seen, 12, 14)]);
    }
    // Two overlapping reads may even see the new value and then the old,
    // as long as neither returned before the other was called.
    assertLinearizable([put(1, "a", 0, 1), put(1, "b", 10, 30), get(2, "b", 11, 15), get(3, "a", 12, 16)]);
  });

  it("orders concurrent puts as a later read demands", () => {
    assertLinearizable([put(1, "a", 0, 10), put(2, "b", 0, 10), put(3, "c", 0, 10), get(1, "a", 11, 12), get(2, "a", 13, 14)]);
  });

  it("accepts a cas race in which exactly one swaps", () => {
    const race = [put(1, "a", 0, 1), cas(1, "a", "x", false, 2, 10), cas(2, "a", "y", true, 3, 9), cas(3, "a", "z", false, 2, 11)];
    assertLinearizable([...race, get(4, "y", 12, 13)]);
    // The losers may also have lost to each other's winner in any order.
    assertLinearizable([put(1, "a", 0, 1), cas(1, "a", "x", true, 2, 10), cas(2, "x", "y", true, 3, 9), get(3, "y", 12, 13)]);
  });

  it("treats equal timestamps as concurrent", () => {
    // One millisecond clock cannot tell whether a call stamped with another
    // operation's return time came after it.
    assertLinearizable([put(1, "a", 0, 5), get(2, null, 5, 6)]);
    assertLinearizable([put(1, "a", 0, 5), put(2, "b", 5, 6), get(3, "a", 7, 8)]);
    assertViolation([put(1, "a", 0, 5), put(2, "b", 6, 7), get(3, "a", 8, 9)]);
  });

  it("accepts a write of unknown outcome that took effect", () => {
    assertLinearizable([put(1, "a", 0, 1), put(2, "b", 2, null), get(3, "b", 10, 11), get(3, "b", 12, 13)]);
  });

  it("accepts a write of unknown outcome that never took effect", () => {
    assertLinearizable([put(1, "a", 0, 1), put(2, "b", 2, null), get(3, "a", 10, 11), get(3, "a", 100, 101)]);
    assertLinearizable([put(1, "a", 0, 1), cas(2, "a", "b", null, 2, 0), cas(3, "a", "c", true, 10, 11), get(3, "c", 12, 13)]);
  });

  it("accepts a read that sees an unknown write long after the writer gave up", () => {
    assertLinearizable([put(1, "a", 0, 1), put(2, "b", 2, null), put(2, "c", 40, 41), get(3, "c", 50, 51), get(3, "b", 5000, 5001)]);
    // ... and a chain of them: an unknown cas on top of an unknown put.
    assertLinearizable([put(2, "b", 2, null), cas(3, "b", "c", null, 3, 0), get(4, "c", 10, 11)]);
  });

  it("lets a write of unknown outcome explain a cas that failed", () => {
    assertLinearizable([put(1, "a", 0, 1), put(2, "b", 2, null), cas(3, "a", "c", false, 10, 11), get(3, "b", 12, 13)]);
    assertLinearizable([put(1, "a", 0, 1), put(2, "b", 2, null), cas(3, "a", "c", false, 10, 11), put(3, "d", 12, 13), get(3, "d", 14, 15)]);
  });

  it("drops a get of unknown outcome, whatever it would have seen", () => {
    assertLinearizable([put(1, "a", 0, 1), get(2, "nonsense", 2, null), get(3, "a", 3, 4)]);
  });

  it("starts every key at initialValue", () => {
    const history = [get(1, "init", 0, 1), cas(1, "init", "a", true, 2, 3), get(2, "init", 0, 1, "j")];
    assert.equal(checkLinearizable(history, { initialValue: "init" }).verdict, "linearizable");
    assert.equal(checkLinearizable(history).verdict, "not-linearizable");
  });
});

describe("checkLinearizable catches anomalies", () => {
  it("catches a stale read, and explains it", () => {
    const result = assertViolation([put(1, "a", 0, 1), put(2, "b", 2, 3), get(3, "a", 4, 5)]);
    assert.equal(result.operations, 3);
    assert.match(result.explanation, /longest linearizable prefix found places 1 operation:\n  1\. process 1 \[0 \.\. 1 ms\] put "a"\n/);
    assert.match(result.explanation, /process 2 \[2 \.\. 3 ms\] put "b": it would replace "a" for good, yet this still has to see it: process 3 \[4 \.\. 5 ms\] get -> "a"/);
    // A read of a value from the future is named as what cannot go next.
    const early = assertViolation([put(1, "a", 0, 1), get(3, "b", 2, 3), put(2, "b", 4, 5)]);
    assert.match(early.explanation, /process 3 \[2 \.\. 3 ms\] get -> "b": it read "b", but the register holds "a"/);
  });

  it("catches a lost write: acknowledged, then never seen by any later read", () => {
    assertViolation([put(1, "a", 0, 1), put(2, "b", 2, 3), get(3, "a", 10, 11), get(1, "a", 20, 21), get(2, "a", 30, 31)]);
  });

  it("catches a value that was never written", () => {
    const result = assertViolation([put(1, "a", 0, 1), get(2, "zz", 2, 3)]);
    assert.match(result.explanation, /saw "zz", which no put or cas of this key wrote/);
    assertViolation([put(1, "a", 0, 1), cas(2, "zz", "b", true, 2, 3)]);
  });

  it("catches a write applied twice", () => {
    // put a, put b, then a again with nobody writing a twice.
    assertViolation([put(1, "a", 0, 1), put(1, "b", 2, 3), get(2, "b", 4, 5), get(2, "a", 6, 7)]);
    // A cas's swap replayed after a later put.
    assertViolation([put(1, "a", 0, 1), cas(1, "a", "b", true, 2, 3), put(2, "c", 4, 5), get(3, "b", 6, 7)]);
    // Two cas on the same expected value both swapping, even concurrently.
    assertViolation([put(1, "a", 0, 1), cas(1, "a", "b", true, 2, 10), cas(2, "a", "c", true, 3, 9)]);
  });

  it("catches a cas that swapped although the value did not match, or did not although it did", () => {
    const result = assertViolation([put(1, "a", 0, 1), put(1, "b", 2, 3), cas(2, "a", "c", true, 4, 5)]);
    assert.match(result.explanation, /put "b": it would replace "a" for good, yet this still has to see it: process 2 \[4 \.\. 5 ms\] cas "a" -> "c", swapped/);
    const early = assertViolation([put(1, "a", 0, 1), cas(2, "b", "c", true, 2, 3), put(1, "b", 4, 5)]);
    assert.match(early.explanation, /process 2 \[2 \.\. 3 ms\] cas "b" -> "c", swapped: it swapped, so the register held "b", but it holds "a"/);
    assertViolation([put(1, "a", 0, 1), cas(2, "a", "c", false, 4, 5)]);
  });

  it("does not let an unknown write explain a read before the write was called", () => {
    assertViolation([put(1, "a", 0, 1), get(2, "b", 2, 3), put(3, "b", 5, null)]);
  });

  it("does not let an unknown write explain a failed cas unless it ran in between", () => {
    assertViolation([put(1, "a", 0, 1), cas(3, "a", "c", false, 10, 11), put(2, "b", 12, null), get(3, "b", 20, 21)]);
  });

  it("names the one bad key among many clean ones", () => {
    const history: HistoryEntry[] = [];
    for (let k = 0; k < 20; k++) {
      const key = `k${k}`;
      history.push(put(1, `${key}-a`, 10 * k, 10 * k + 2, key), get(2, `${key}-a`, 10 * k + 1, 10 * k + 3, key));
      history.push(put(3, `${key}-b`, 10 * k + 4, 10 * k + 5, key), get(4, k === 7 ? `${key}-a` : `${key}-b`, 10 * k + 6, 10 * k + 7, key));
    }
    const result = assertViolation(history, "k7");
    assert.equal(result.operations, 4);
  });
});

describe("checkLinearizable at the scale of a chaos run", () => {
  const options = { seed: 20_240_601, processes: 10, operationsPerProcess: 2000, keys: 5, unknownRate: 0.05 };

  it("accepts a random linearizable history of 10 processes x 2,000 operations on 5 keys", () => {
    const history = randomHistory(options);
    const result = checkLinearizable(history, { nowMs: () => performance.now() });
    console.log(`scale: ${history.length} operations, ${history.filter((entry) => entry.result === null).length} of unknown outcome: ${result.verdict} in ${result.elapsedMs.toFixed(0)} ms`);
    assert.equal(result.verdict, "linearizable", JSON.stringify(result));
    assert.equal(result.operations, 20_000);
    assert.ok(result.elapsedMs < 20_000, `took ${result.elapsedMs} ms`);
  });

  it("accepts other seeds too", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const history = randomHistory({ ...options, seed, operationsPerProcess: 300, keys: 2, unknownRate: 0.1 });
      assertLinearizable(history);
    }
  });

  it("catches one stale read injected into it", () => {
    const history = randomHistory(options);
    const stale = injectStaleRead(history);
    const result = checkLinearizable(history, { nowMs: () => performance.now() });
    console.log(`scale, one stale read (process ${stale.process} at ${stale.callMs} ms): ${result.verdict} in ${result.elapsedMs.toFixed(0)} ms`);
    assert.equal(result.verdict, "not-linearizable", JSON.stringify(result));
    assert.ok(result.verdict === "not-linearizable");
    assert.equal(result.key, stale.op.key);
    assert.ok(result.elapsedMs < 20_000, `took ${result.elapsedMs} ms`);
  });

  it("follows one key's history tens of thousands of operations deep without recursion", () => {
    const history: HistoryEntry[] = [];
    for (let n = 0; n < 30_000; n++) history.push(put(n % 3, `v${n}`, 4 * n, 4 * n + 2), get((n + 1) % 3, `v${n}`, 4 * n + 1, 4 * n + 3));
    assertLinearizable(history);
    history.push(get(1, "v29990", 200_000, 200_001));
    const result = assertViolation(history);
    assert.match(result.explanation, /places 59982 operations[^]*put "v29991": it would replace "v29990" for good, yet this still has to see it: process 1 \[200000 \.\. 200001 ms\] get -> "v29990"/);
  });
});

describe("checkLinearizable within its budget", () => {
  it("answers unknown on a pathological history rather than search on", () => {
    // Sixteen writes of unknown outcome, each read by one of sixteen
    // overlapping gets: every order of them must be tried before the reads
    // that follow (b after a after b) prove none works.
    const history: HistoryEntry[] = [];
    for (let n = 0; n < 16; n++) history.push(put(n, `v${n}`, 0, null), get(100 + n, `v${n}`, 1, 100));
    history.push(get(200, "v0", 101, 102), get(200, "v1", 103, 104), get(200, "v0", 105, 106));
    const result = checkLinearizable(history, { statesMax: 1000 });
    assert.equal(result.verdict, "unknown", JSON.stringify(result));
    assert.ok(result.verdict === "unknown");
    assert.equal(result.key, "k");
    assert.match(result.reason, /gave up after 1001 states \(statesMax 1000\)/);
  });

  it("still reports a definite violation on another key", () => {
    const hard: HistoryEntry[] = [];
    for (let n = 0; n < 16; n++) hard.push(put(n, `v${n}`, 0, null, "hard"), get(100 + n, `v${n}`, 1, 100, "hard"));
    const bad = [put(1, "a", 0, 1, "bad"), put(1, "b", 2, 3, "bad"), get(2, "a", 4, 5, "bad")];
    const result = checkLinearizable([...hard, get(200, "v0", 101, 102, "hard"), get(200, "v1", 103, 104, "hard"), get(200, "v0", 105, 106, "hard"), ...bad], {
      statesMax: 1000,
    });
    assert.equal(result.verdict, "not-linearizable");
    assert.ok(result.verdict === "not-linearizable");
    assert.equal(result.key, "bad");
  });
});

describe("the history's form", () => {
  it("partitions by key in order of first appearance, keeping each key's order", () => {
    const history = [put(1, "a", 0, 1, "x"), put(2, "b", 0, 1, "y"), get(3, "a", 2, 3, "x")];
    const byKey = partitionByKey(history);
    assert.deepEqual([...byKey.keys()], ["x", "y"]);
    assert.deepEqual(byKey.get("x"), [history[0], history[2]]);
  });

  it("rejects a history no client could have recorded", () => {
    assert.throws(() => checkLinearizable([put(1, "a", 5, 4)]), AssertionError);
    assert.throws(() => checkLinearizable([put(1, "a", 0, 10), put(1, "b", 5, 12)]), AssertionError);
    assert.throws(() => checkLinearizable([{ process: 1, op: { kind: "get", key: "k" }, callMs: 0, result: { returnMs: 1, output: { kind: "put" } } }]), AssertionError);
    // A client moves on from an operation whose outcome is unknown.
    assertLinearizable([put(1, "a", 0, null), put(1, "b", 5, 12)]);
  });
});

/**
 * Makes a get in the middle of the history return the value of a put that a
 * later completed put had overwritten before the get was called: no order
 * can explain it. Returns the changed entry.
 */
function injectStaleRead(history: HistoryEntry[]): HistoryEntry {
  const completedPuts = (key: string): HistoryEntry[] =>
    history.filter((entry) => entry.op.key === key && entry.op.kind === "put" && entry.result !== null).sort((a, b) => a.callMs - b.callMs);
  const sorted = history.map((entry, index) => ({ entry, index })).sort((a, b) => a.entry.callMs - b.entry.callMs);
  for (const { entry, index } of sorted.slice(sorted.length / 2)) {
    if (entry.op.kind !== "get" || entry.result === null || entry.result.output.kind !== "get") continue;
    const puts = completedPuts(entry.op.key);
    const newer = puts.filter((candidate) => (candidate.result?.returnMs ?? Infinity) < entry.callMs).at(-1);
    if (newer === undefined) continue;
    const older = puts.filter((candidate) => (candidate.result?.returnMs ?? Infinity) < newer.callMs).at(-1);
    if (older === undefined || older.op.kind !== "put" || older.op.value === entry.result.output.value) continue;
    const stale: HistoryEntry = { ...entry, result: { returnMs: entry.result.returnMs, output: { kind: "get", value: older.op.value } } };
    history[index] = stale;
    return stale;
  }
  throw new Error("no get to make stale");
}
