/**
 * Which operations the search may linearize next (Wing & Gong 1993, as
 * refined in Lowe 2017, "Testing for linearizability"): the completed
 * operations' calls and returns form one list ordered by time, and an
 * operation not yet linearized may go next when its call comes before the
 * first return still in the list; a return reached first belongs to an
 * operation that had to be linearized already. Linearizing an operation
 * takes its call and return out of the list, and backtracking puts them
 * back, each in constant time (as in Knuth 2000, "Dancing links": a node
 * keeps its own links while out, so undoing in reverse order restores the
 * list exactly).
 *
 * Unknown-outcome operations have no return, so they sit in a list of
 * their own, by call time; one may go next when its call comes no later
 * than that first return.
 *
 * Operations are numbered as in the search: the completed ones 0..K-1 by
 * call, then the unknown ones K..K+U-1 by call.
 */
import type { KeyOperation } from "./prepare.ts";

/** "No operation", as an operation number. */
export const NOTHING = -1;

export class Frontier {
  private readonly knownCount: number;
  private readonly returnMs: Float64Array;
  private readonly callMsOfUnknown: Float64Array;
  // The known events: node 0 is the head, 2i+1 the call of operation i, 2i+2 its return, 2K+1 the tail.
  private readonly knownNext: Int32Array;
  private readonly knownPrev: Int32Array;
  private readonly tail: number;
  // The unknown operations: node 0 is the head, j+1 operation K+j, U+1 the tail.
  private readonly unknownNext: Int32Array;
  private readonly unknownPrev: Int32Array;
  private readonly unknownTail: number;

  constructor(known: readonly KeyOperation[], unknown: readonly KeyOperation[]) {
    const k = known.length;
    this.knownCount = k;
    this.returnMs = Float64Array.from(known, (operation) => operation.returnMs);
    this.callMsOfUnknown = Float64Array.from(unknown, (operation) => operation.callMs);

    // With one millisecond clock, a call stamped with the same time as a
    // return cannot be said to follow it: calls sort first, so that the two
    // operations count as concurrent and no order is imposed that the
    // clock did not see.
    const events = Array.from({ length: 2 * k }, (_, index) => index + 1);
    const timeOf = (node: number): number => {
      const operation = known[(node - 1) >> 1] as KeyOperation;
      return node & 1 ? operation.callMs : operation.returnMs;
    };
    events.sort((a, b) => timeOf(a) - timeOf(b) || (b & 1) - (a & 1) || a - b);
    this.tail = 2 * k + 1;
    [this.knownNext, this.knownPrev] = linked([0, ...events, this.tail]);

    this.unknownTail = unknown.length + 1;
    [this.unknownNext, this.unknownPrev] = linked(Array.from({ length: unknown.length + 2 }, (_, node) => node));
  }

  /** The completed operation that may go next after `after` (NOTHING: from the start), or NOTHING. */
  nextKnown(after: number): number {
    const node = this.knownNext[after === NOTHING ? 0 : 2 * after + 1] as number;
    return node !== this.tail && node & 1 ? (node - 1) >> 1 : NOTHING;
  }

  /** The earliest return among completed operations not yet linearized (+Infinity: none). */
  firstReturnMs(): number {
    let node = this.knownNext[0] as number;
    while (node !== this.tail && node & 1) node = this.knownNext[node] as number;
    return node === this.tail ? Infinity : (this.returnMs[(node - 2) >> 1] as number);
  }

  /** The unknown-outcome operation that may go next after `after` (NOTHING: from the start), or NOTHING. */
  nextUnknown(after: number, firstReturnMs: number): number {
    const node = this.unknownNext[after === NOTHING ? 0 : after - this.knownCount + 1] as number;
    return node !== this.unknownTail && (this.callMsOfUnknown[node - 1] as number) <= firstReturnMs ? this.knownCount + node - 1 : NOTHING;
  }

  /** Takes a linearized operation out of the lists. */
  remove(operation: number): void {
    if (operation < this.knownCount) {
      unlink(this.knownNext, this.knownPrev, 2 * operation + 1);
      unlink(this.knownNext, this.knownPrev, 2 * operation + 2);
    } else {
      unlink(this.unknownNext, this.unknownPrev, operation - this.knownCount + 1);
    }
  }

  /** Puts back the operation removed last (and not yet restored). */
  restore(operation: number): void {
    if (operation < this.knownCount) {
      relink(this.knownNext, this.knownPrev, 2 * operation + 2);
      relink(this.knownNext, this.knownPrev, 2 * operation + 1);
    } else {
      relink(this.unknownNext, this.unknownPrev, operation - this.knownCount + 1);
    }
  }
}

/** Doubly linked `nodes` (a permutation of 0..n-1, head first, tail last): [next, prev]. */
function linked(nodes: readonly number[]): [Int32Array, Int32Array] {
  const next = new Int32Array(nodes.length).fill(NOTHING);
  const prev = new Int32Array(nodes.length).fill(NOTHING);
  for (let index = 1; index < nodes.length; index++) {
    next[nodes[index - 1] as number] = nodes[index] as number;
    prev[nodes[index] as number] = nodes[index - 1] as number;
  }
  return [next, prev];
}

function unlink(next: Int32Array, prev: Int32Array, node: number): void {
  next[prev[node] as number] = next[node] as number;
  prev[next[node] as number] = prev[node] as number;
}

function relink(next: Int32Array, prev: Int32Array, node: number): void {
  next[prev[node] as number] = node;
  prev[next[node] as number] = node;
}
