/**
 * The search for a linearization of one key's operations: Wing & Gong
 * 1993, with the memoisation of Lowe 2017 ("Testing for linearizability").
 *
 * From a configuration (the operations linearized so far, the register's
 * state) the search picks an operation that may go next (frontier.ts),
 * runs it on the register (model.ts), and goes on from the configuration
 * that gives, unless that one was reached before (memo.ts); when nothing
 * can go next, it takes the last pick back and tries the one after it. The
 * key is linearizable when every completed operation has been placed;
 * unknown-outcome ones may be left out, as never having happened.
 *
 * The path is kept on an explicit stack rather than the call stack: a
 * history of a minute holds tens of thousands of operations per key, far
 * deeper than recursion may go.
 *
 * Three prunings keep the search near one configuration per operation on
 * the histories the chaos run records, none of them losing a linearization:
 * - an operation that leaves the register unchanged (a get, a cas that did
 *   not swap) and fits the state now is placed now, with no alternative
 *   tried: any linearization from here can be rewritten to start with it,
 *   since it is already allowed to go next and moving it forward changes no
 *   state the others see. Only writes are branched on;
 * - a write that would move the register off a value a pending read still
 *   needs, for good, is refused at once (demand.ts);
 * - of the unknown-outcome writes, only those that something could observe
 *   right after are tried (unknown-candidates.ts).
 */
import { apply, isReadOnly, isUnknownOutcome, NONE, REJECTED, type ValueId } from "./model.ts";
import { Frontier, NOTHING } from "./frontier.ts";
import { Memo } from "./memo.ts";
import { Demand } from "./demand.ts";
import { UnknownCandidates } from "./unknown-candidates.ts";
import type { KeyHistory, KeyOperation } from "./prepare.ts";

export type SearchOutcome =
  | { readonly kind: "linearizable"; readonly states: number }
  /** `longest`: the longest linearizable prefix of the history found, in order. */
  | { readonly kind: "violation"; readonly states: number; readonly longest: readonly KeyOperation[] }
  | { readonly kind: "budget"; readonly states: number };

/** What trying an operation gave, besides a new state (a ValueId, never negative). */
const SEEN = -2;

export function search(history: KeyHistory, statesMax: number): SearchOutcome {
  const operations = [...history.known, ...history.unknown];
  const knownCount = history.known.length;
  const frontier = new Frontier(history.known, history.unknown);
  const memo = new Memo(history.known, history.unknown.length);
  const longest = new LongestPath();
  const demand = new Demand(operations, history.initial);
  const placed = new Uint8Array(operations.length);
  const unknownCandidates = new UnknownCandidates(operations, placed);

  // The path: the operation placed at each depth, the state and `hidden`
  // (see apply()) before it, and whether it was a forced read.
  const pathOperation = new Int32Array(operations.length);
  const pathState = new Int32Array(operations.length);
  const pathHidden = new Int32Array(operations.length);
  const pathForced = new Uint8Array(operations.length);
  // Per depth, for the configuration there: the unknown-outcome writes to
  // try (listed once, when first needed) and how many have been tried.
  const unknownLists: number[][] = [];
  const unknownListed = new Uint8Array(operations.length + 1);
  const unknownTried = new Int32Array(operations.length + 1);
  let depth = 0;

  let state: ValueId = history.initial;
  let hidden: ValueId = NONE;
  let unplaced = knownCount;
  // After backtracking, the operation just taken back: the search resumes
  // with the candidates after it. NOTHING: a configuration seen first.
  let resumeAfter = NOTHING;

  /** Places `operation` if the register allows it in a new configuration: the new state, else REJECTED or SEEN. */
  const attempt = (operation: number): number => {
    const op = operations[operation] as KeyOperation;
    const next = apply(op, state, hidden);
    if (next === REJECTED || (next !== state && demand.strands(op, state))) return REJECTED;
    memo.mark(operation);
    if (memo.visit(next, operation >= knownCount ? state : NONE)) return next;
    memo.unmark(operation);
    return SEEN;
  };

  for (;;) {
    if (unplaced === 0) return { kind: "linearizable", states: memo.size };
    let chosen = NOTHING;
    let next: number = REJECTED;
    let forced = false;

    if (resumeAfter === NOTHING) {
      for (let operation = frontier.nextKnown(NOTHING); operation !== NOTHING; operation = frontier.nextKnown(operation)) {
        if (!isReadOnly(operations[operation] as KeyOperation)) continue;
        next = attempt(operation);
        if (next === REJECTED) continue;
        // A read that fits now goes now; if that configuration was seen,
        // nothing else from here can succeed either.
        chosen = operation;
        forced = true;
        break;
      }
    }
    if (!forced) {
      // Branch over the writes that may go next: completed ones, then those
      // of unknown outcome (tried last: they seldom are what is needed).
      if (resumeAfter < knownCount) {
        for (let operation = frontier.nextKnown(resumeAfter); operation !== NOTHING; operation = frontier.nextKnown(operation)) {
          if (isReadOnly(operations[operation] as KeyOperation)) continue;
          next = attempt(operation);
          if (next >= 0) {
            chosen = operation;
            break;
          }
        }
      }
      if (chosen === NOTHING) {
        const list = (unknownLists[depth] ??= []);
        if (unknownListed[depth] === 0) {
          unknownCandidates.list(frontier, demand, state, hidden, list);
          unknownListed[depth] = 1;
          unknownTried[depth] = 0;
        }
        while (chosen === NOTHING && (unknownTried[depth] as number) < list.length) {
          const operation = list[unknownTried[depth]!++] as number;
          next = attempt(operation);
          if (next >= 0) chosen = operation;
        }
      }
    }

    if (chosen !== NOTHING && next >= 0) {
      if (memo.size > statesMax) return { kind: "budget", states: memo.size };
      pathOperation[depth] = chosen;
      pathState[depth] = state;
      pathHidden[depth] = hidden;
      pathForced[depth] = forced ? 1 : 0;
      depth++;
      unknownListed[depth] = 0;
      longest.reached(pathOperation, depth);
      frontier.remove(chosen);
      demand.place(operations[chosen] as KeyOperation);
      placed[chosen] = 1;
      hidden = isUnknownOutcome(operations[chosen] as KeyOperation) ? state : NONE;
      state = next;
      if (chosen < knownCount) unplaced--;
      resumeAfter = NOTHING;
      continue;
    }

    // A dead end: take placements back until one that had alternatives.
    for (;;) {
      if (depth === 0) return { kind: "violation", states: memo.size, longest: longest.operations(operations) };
      depth--;
      const operation = pathOperation[depth] as number;
      longest.left(depth);
      frontier.restore(operation);
      demand.unplace(operations[operation] as KeyOperation);
      placed[operation] = 0;
      memo.unmark(operation);
      state = pathState[depth] as number;
      hidden = pathHidden[depth] as number;
      if (operation < knownCount) unplaced++;
      if (pathForced[depth] === 0) {
        resumeAfter = operation;
        break;
      }
    }
  }
}

/**
 * The longest path the search has reached, for the explanation of a
 * violation. Copying the path at every new maximum would cost its length
 * each time; instead the copy is kept in step with the path's changes since
 * it was last extended (`agree`: how many leading entries still match), so
 * that the work is proportional to the search's own moves.
 */
class LongestPath {
  private readonly path: number[] = [];
  private agree = 0;

  /** The path has grown to `depth`. */
  reached(path: Int32Array, depth: number): void {
    if (depth <= this.path.length) return;
    this.path.length = this.agree;
    for (let index = this.agree; index < depth; index++) this.path.push(path[index] as number);
    this.agree = depth;
  }

  /** The path has shrunk to `depth`. */
  left(depth: number): void {
    if (depth < this.agree) this.agree = depth;
  }

  operations(operations: readonly KeyOperation[]): KeyOperation[] {
    return this.path.map((operation) => operations[operation] as KeyOperation);
  }
}
