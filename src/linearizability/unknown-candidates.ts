/**
 * Which unknown-outcome writes are worth placing next. Such a write has no
 * return, so it may go next at nearly every point of the search; trying
 * each one everywhere multiplies the search by their number. But a write
 * placed just before an operation that does not observe it can always be
 * moved later or dropped (see apply() in model.ts), so only these are
 * tried, all of them callable now:
 * - writes of a value that a callable completed get or swapping cas needs,
 *   and, through unknown-outcome cas, the writes those need in turn;
 * - when a callable cas that did not swap expects the register's current
 *   value, so that something must change the value first: the unknown
 *   cas that can swap now, the puts whose values some pending operation
 *   mentions, and one put that no pending operation mentions. All puts of
 *   the last kind do the same (leave a value nobody will look at), so the
 *   one called first stands for them all: if a linearization uses another,
 *   swapping the two roles gives one that uses it.
 */
import { NOTHING, type Frontier } from "./frontier.ts";
import type { Demand } from "./demand.ts";
import { NONE, Step, type ValueId } from "./model.ts";
import type { KeyOperation } from "./prepare.ts";

export class UnknownCandidates {
  private readonly operations: readonly KeyOperation[];
  /** 1 for each operation placed on the search's path; kept by the search. */
  private readonly placed: Uint8Array;
  /** Per value: the unknown-outcome writes of it. */
  private readonly writersOf: number[][];
  /** Per value: the unknown-outcome cas expecting it. */
  private readonly casExpecting: number[][];
  // Marks for one call of list(): a value or operation is marked when it holds the current epoch.
  private readonly valueMark: Int32Array;
  private readonly operationMark: Int32Array;
  private epoch = 0;

  constructor(operations: readonly KeyOperation[], placed: Uint8Array) {
    this.operations = operations;
    this.placed = placed;
    const values = operations.reduce((most, op) => Math.max(most, op.observed, op.written), 0) + 1;
    this.writersOf = Array.from({ length: values }, () => []);
    this.casExpecting = Array.from({ length: values }, () => []);
    for (let index = 0; index < operations.length; index++) {
      const op = operations[index] as KeyOperation;
      if (op.step !== Step.maybePut && op.step !== Step.maybeCas) continue;
      this.writersOf[op.written]?.push(index);
      if (op.step === Step.maybeCas) this.casExpecting[op.observed]?.push(index);
    }
    this.valueMark = new Int32Array(values);
    this.operationMark = new Int32Array(operations.length);
  }

  /** Fills `out` with the candidates for this configuration, in increasing order (the same each time it recurs). */
  list(frontier: Frontier, demand: Demand, state: ValueId, hidden: ValueId, out: number[]): void {
    out.length = 0;
    this.epoch++;
    const firstReturnMs = frontier.firstReturnMs();
    const callable = (operation: number): boolean =>
      this.placed[operation] === 0 && (this.operations[operation] as KeyOperation).callMs <= firstReturnMs;
    const add = (operation: number): void => {
      if (this.operationMark[operation] === this.epoch) return;
      this.operationMark[operation] = this.epoch;
      out.push(operation);
    };

    if (hidden !== NONE) {
      // Right after another unknown-outcome write, only a cas observing it.
      for (const operation of this.casExpecting[state] ?? []) if (callable(operation)) add(operation);
      return;
    }

    const needed: ValueId[] = [];
    let mustChange = false;
    for (let operation = frontier.nextKnown(NOTHING); operation !== NOTHING; operation = frontier.nextKnown(operation)) {
      const op = this.operations[operation] as KeyOperation;
      if ((op.step === Step.get || op.step === Step.casSwapped) && op.observed !== state) needed.push(op.observed);
      if (op.step === Step.casFailed && op.observed === state) mustChange = true;
    }
    while (needed.length > 0) {
      const value = needed.pop() as ValueId;
      if (this.valueMark[value] === this.epoch) continue;
      this.valueMark[value] = this.epoch;
      for (const operation of this.writersOf[value] ?? []) {
        if (!callable(operation)) continue;
        const op = this.operations[operation] as KeyOperation;
        if (op.step === Step.maybePut || op.observed === state) add(operation);
        else needed.push(op.observed);
      }
    }
    if (mustChange) {
      for (const operation of this.casExpecting[state] ?? []) if (callable(operation)) add(operation);
      let anonymous = false;
      for (let operation = frontier.nextUnknown(NOTHING, firstReturnMs); operation !== NOTHING; operation = frontier.nextUnknown(operation, firstReturnMs)) {
        const op = this.operations[operation] as KeyOperation;
        if (op.step !== Step.maybePut) continue;
        if (demand.mentions(op.written) > 0) add(operation);
        else if (!anonymous) {
          anonymous = true;
          add(operation);
        }
      }
    }
    out.sort((a, b) => a - b);
  }
}
