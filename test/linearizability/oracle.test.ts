/**
 * Holds the checker to the definition of linearizability on thousands of
 * small random histories, linearizable or not: its verdict must equal that
 * of a brute-force search that tries every order of the operations (and
 * every choice of which unknown-outcome writes happened), with none of the
 * checker's prunings (the memo, forced reads, the refusal of writes that
 * strand a value still to be read, the rules for placing unknown-outcome
 * writes, the writes left out as unobservable). Both read equal timestamps
 * as concurrent: only a return strictly before a call orders two operations.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkLinearizable, describeEntry, type HistoryEntry } from "../../src/linearizability/index.ts";
import { random } from "./random-history.ts";

/** Whether some order of the operations, each between its call and its return, fits a register. */
function bruteForce(history: readonly HistoryEntry[], initial: string | null): boolean {
  const operations = history.filter((entry) => entry.result !== null || entry.op.kind !== "get");
  const placed = new Array<boolean>(operations.length).fill(false);
  const explore = (state: string | null): boolean => {
    if (operations.every((entry, index) => placed[index] || entry.result === null)) return true;
    for (let index = 0; index < operations.length; index++) {
      const entry = operations[index] as HistoryEntry;
      if (placed[index]) continue;
      // Everything that returned before this call must already be placed.
      const blocked = operations.some((other, j) => !placed[j] && other.result !== null && other.result.returnMs < entry.callMs);
      if (blocked) continue;
      const next = step(entry, state);
      if (next === undefined) continue;
      placed[index] = true;
      const found = explore(next.state);
      placed[index] = false;
      if (found) return true;
    }
    return false;
  };
  return explore(initial);
}

/** The register's rules, written out plainly: the new state, or undefined when the output contradicts `state`. */
function step(entry: HistoryEntry, state: string | null): { state: string | null } | undefined {
  const output = entry.result?.output;
  switch (entry.op.kind) {
    case "put":
      return { state: entry.op.value };
    case "get":
      return output?.kind === "get" && output.value === state ? { state } : undefined;
    case "cas": {
      const swaps = entry.op.expect === state;
      if (output?.kind === "cas" && output.swapped !== swaps) return undefined;
      return { state: swaps ? entry.op.value : state };
    }
  }
}

/** A small history of one key with random times and random (often impossible) outputs. */
function smallHistory(next: () => number, size: number): HistoryEntry[] {
  const below = (n: number): number => Math.floor(next() * n);
  const values: (string | null)[] = [null, "init"];
  const history: HistoryEntry[] = [];
  const freeAtMs = [0, 0, 0];
  for (let n = 0; n < size; n++) {
    const process = below(freeAtMs.length);
    const callMs = (freeAtMs[process] as number) + below(3);
    const returnMs = callMs + below(6);
    const unknown = next() < 0.25;
    freeAtMs[process] = unknown ? callMs + 1 : returnMs;
    const kind = below(3);
    const pick = (): string | null => values[below(values.length)] ?? null;
    let entry: HistoryEntry;
    if (kind === 0) {
      const value = `v${n}`;
      values.push(value);
      entry = { process, op: { kind: "put", key: "k", value }, callMs, result: { returnMs, output: { kind: "put" } } };
    } else if (kind === 1) {
      entry = { process, op: { kind: "get", key: "k" }, callMs, result: { returnMs, output: { kind: "get", value: pick() } } };
    } else {
      const value = `v${n}`;
      const expect = pick();
      values.push(value);
      entry = { process, op: { kind: "cas", key: "k", expect, value }, callMs, result: { returnMs, output: { kind: "cas", swapped: next() < 0.5 } } };
    }
    history.push(unknown ? { ...entry, result: null } : entry);
  }
  return history;
}

describe("checkLinearizable agrees with a brute-force search", () => {
  it("on 6,000 random histories of up to 8 operations", () => {
    const next = random(7);
    const verdicts = { linearizable: 0, "not-linearizable": 0 };
    for (let round = 0; round < 6000; round++) {
      const history = smallHistory(next, 2 + (round % 7));
      const initial = round % 2 === 0 ? null : "init";
      const expected = bruteForce(history, initial);
      const result = checkLinearizable(history, { initialValue: initial });
      assert.notEqual(result.verdict, "unknown");
      assert.equal(result.verdict === "linearizable", expected, `initial ${initial}:\n${history.map(describeEntry).join("\n")}\n${JSON.stringify(result)}`);
      verdicts[result.verdict as keyof typeof verdicts]++;
    }
    // Both verdicts must be well represented for the comparison to mean anything.
    assert.ok(verdicts.linearizable > 1000 && verdicts["not-linearizable"] > 1000, JSON.stringify(verdicts));
  });
});
