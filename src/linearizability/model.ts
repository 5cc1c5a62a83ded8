/**
 * The sequential specification the history is checked against: one
 * register holding a string or nothing, with put, get and compare-and-set.
 *
 * The search compares values often and remembers states by the million, so
 * values are replaced by small integers (ValueId) once, when a key's
 * operations are prepared.
 */

/** A value as the search sees it: 0 is "absent", the rest index a ValueTable. */
export type ValueId = number;

export const ABSENT: ValueId = 0;

/** What apply() returns when the register cannot do what the operation reported. */
export const REJECTED = -1;

/** The `hidden` argument of apply() when no unknown-outcome write is waiting to be observed. */
export const NONE = -1;

/**
 * What an operation does to the register. The output is part of it: a get
 * is a check that the register holds the value read, and a completed cas
 * says whether it swapped. A "maybe" write has an unknown outcome and no
 * output to check.
 */
export const Step = { put: 0, get: 1, casSwapped: 2, casFailed: 3, maybePut: 4, maybeCas: 5 } as const;
export type Step = (typeof Step)[keyof typeof Step];

export interface ModelOp {
  readonly step: Step;
  /** get: the value it read; cas: the value it expected. Unused for puts. */
  readonly observed: ValueId;
  /** put and cas: the value it writes. Unused for gets. */
  readonly written: ValueId;
}

/** The values of one key, each given a ValueId on first sight. */
export class ValueTable {
  private readonly ids = new Map<string, ValueId>();
  private readonly values: (string | null)[] = [null];

  idOf(value: string | null): ValueId {
    if (value === null) return ABSENT;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  valueOf(id: ValueId): string | null {
    return this.values[id] ?? null;
  }
}

/** Operations that leave the register as they found it: a get, and a cas that did not swap. */
export function isReadOnly(op: ModelOp): boolean {
  return op.step === Step.get || op.step === Step.casFailed;
}

export function isUnknownOutcome(op: ModelOp): boolean {
  return op.step === Step.maybePut || op.step === Step.maybeCas;
}

/**
 * The register's value after `op` runs on `state`, or REJECTED when the
 * operation's output contradicts the state.
 *
 * `hidden` is the value the register held before the last operation placed,
 * when that was an unknown-outcome write (NONE otherwise). Such a write is
 * only worth placing just before an operation that observes it, because any
 * linearization can be rewritten into one where this holds (the history's
 * other operations are unchanged, and an unknown write has no return time to
 * respect, so it may always be moved later or dropped):
 * - a write followed by a put, or at the very end, can be dropped: nothing
 *   ever saw its value;
 * - it can swap places with a following cas that did not swap, unless that
 *   cas expected the value the write replaced (`hidden`): only then did the
 *   write make the cas fail;
 * - a get or a swapping cas right after it may be what observes its value,
 *   so these stay allowed (the register's rules decide).
 * Refusing the other placements keeps the search from trying every point
 * of the history for every unknown write, which is exponential.
 * An unknown-outcome cas is placed only where it swaps: one that does not
 * swap changes nothing, the same as never happening.
 */
export function apply(op: ModelOp, state: ValueId, hidden: ValueId): ValueId {
  switch (op.step) {
    case Step.put:
    case Step.maybePut:
      return hidden === NONE ? op.written : REJECTED;
    case Step.get:
      return state === op.observed ? state : REJECTED;
    case Step.casSwapped:
    case Step.maybeCas:
      return state === op.observed ? op.written : REJECTED;
    case Step.casFailed:
      return state !== op.observed && (hidden === NONE || hidden === op.observed) ? state : REJECTED;
  }
}
