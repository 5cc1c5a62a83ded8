/**
 * Which values the operations not yet placed still need to see, and which
 * they can still write. Once the register moves off a value that no write
 * still to be placed writes (with values unique per write, one whose writer
 * has been placed), that value is gone for good: a completed get that read
 * it, or a cas that swapped on it, can no longer be placed, and the search
 * may turn back at once instead of going on until it reaches that
 * operation.
 */
import { Step, type ModelOp, type ValueId } from "./model.ts";

export class Demand {
  /** Per value: completed operations not yet placed that need the register to hold it. */
  private readonly readers: Int32Array;
  /** Per value: writes not yet placed that write it. */
  private readonly writers: Int32Array;
  /** Per value: operations not yet placed that read it or expect it, whatever they returned. */
  private readonly mentioned: Int32Array;

  constructor(operations: readonly ModelOp[], initial: ValueId) {
    const values = operations.reduce((most, op) => Math.max(most, op.observed, op.written), initial) + 1;
    this.readers = new Int32Array(values);
    this.writers = new Int32Array(values);
    this.mentioned = new Int32Array(values);
    for (const op of operations) this.count(op, 1);
  }

  place(op: ModelOp): void {
    this.count(op, -1);
  }

  unplace(op: ModelOp): void {
    this.count(op, 1);
  }

  /**
   * Whether `op`, moving the register off `value`, leaves another operation
   * that needs `value` with no way to get it back.
   */
  strands(op: ModelOp, value: ValueId): boolean {
    const ownRead = (op.step === Step.get || op.step === Step.casSwapped) && op.observed === value ? 1 : 0;
    return (this.readers[value] as number) > ownRead && this.writers[value] === 0;
  }

  /** How many operations not yet placed read `value` or expect it. */
  mentions(value: ValueId): number {
    return this.mentioned[value] as number;
  }

  private count(op: ModelOp, by: number): void {
    if (op.step !== Step.put && op.step !== Step.maybePut) this.mentioned[op.observed]! += by;
    if (op.step === Step.get || op.step === Step.casSwapped) this.readers[op.observed]! += by;
    if (op.step !== Step.get && op.step !== Step.casFailed) this.writers[op.written]! += by;
  }
}
