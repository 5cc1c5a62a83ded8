import type { Entry, LogIndex, NodeId, NodeStatus, ReadState, Term } from "../../src/raft/index.ts";

/** The property a violation breaks. */
export type CheckerName =
  | "election safety"
  | "log matching"
  | "leader append-only"
  | "leader completeness"
  | "commit safety"
  | "state machine safety"
  | "persistence"
  | "read linearizability"
  | "election rules"
  | "node invariants"
  | "liveness";

/**
 * A broken Raft property found by the simulator. The message is the whole
 * report: seed, checker, details, the end of the trace and how to replay.
 */
export class SimulationViolation extends Error {
  override readonly name = "SimulationViolation";

  constructor(
    readonly seed: number,
    readonly checker: CheckerName,
    readonly details: string,
    readonly atMs: number,
    readonly traceTail: readonly string[],
    readonly replayCommand: string | null,
    options?: { readonly cause?: unknown },
  ) {
    super(
      [
        `seed ${seed}: ${checker} violated at t=${atMs}ms`,
        details,
        `--- the last ${traceTail.length} trace lines ---`,
        ...traceTail,
        "---",
        replayCommand === null ? `(seed ${seed})` : `replay: ${replayCommand}`,
      ].join("\n"),
      options,
    );
  }
}

/** Called by a checker that found a violation; never returns (it throws a SimulationViolation). */
export type ViolationReporter = (checker: CheckerName, details: string) => never;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Same position, same term, same contents. */
export function sameEntry(a: Entry, b: Entry): boolean {
  return a === b || (a.index === b.index && a.term === b.term && a.type === b.type && sameBytes(a.data, b.data));
}

/** `(index,term) type "data"` for violation reports; bytes outside printable ASCII show as dots. */
export function describeEntry(entry: Entry): string {
  const shown = Array.from(entry.data.subarray(0, 60), (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".")).join("");
  return `(${entry.index},${entry.term}) ${entry.type}${entry.data.length === 0 ? "" : ` "${shown}"`}`;
}

/**
 * A node's log as the checkers read it (its length is the status's
 * lastLogIndex): entry by entry, so that a check costs what it looks at. The core holds only a tail in memory and reads older
 * entries back from its storage (docs/architecture.md §2).
 */
export interface LogView {
  logEntry(index: LogIndex): Entry | undefined;
}

interface PositionRecord {
  readonly entry: Entry;
  readonly previousTerm: Term;
  readonly node: NodeId;
}

interface CommittedRecord {
  readonly entry: Entry;
  /** The term of the first node seen to commit it: the leader that committed it. */
  readonly commitTerm: Term;
  readonly node: NodeId;
}

interface AppliedRecord {
  readonly entry: Entry;
  readonly node: NodeId;
}

/** What the checker remembers about one node between events; reset when the node crashes. */
interface NodeWatch {
  /** commitIndex already checked against the committed record. */
  commitIndex: LogIndex;
  /** The term in which `completeUpTo` was checked while the node led. */
  leaderTerm: Term;
  /** Committed entries already found in the log of this node as leader of `leaderTerm`. */
  completeUpTo: LogIndex;
}

/**
 * The Raft safety properties (Figure 3 of the paper), checked incrementally so
 * that they can run after every simulated event:
 *
 * - Election safety: at most one leader per term, over the whole run.
 * - Log matching: each (index, term) ever stored anywhere must always carry
 *   the same entry and follow the same term at index - 1. By induction on the
 *   index, two logs that share an (index, term) are then identical up to it;
 *   checking each entry once, when it is persisted, costs O(1).
 * - Leader append-only: a leader never overwrites its own log.
 * - Leader completeness: an entry committed in term T is in the log of every
 *   leader of a term above T.
 * - Commit safety: no two nodes ever consider different entries committed at
 *   one index (what state machine safety rests on).
 * - State machine safety: no two nodes apply different entries at one index,
 *   and each node applies 1, 2, 3 … in order, only what it has committed.
 */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<Term, NodeId>();
  private readonly positions: (Map<Term, PositionRecord> | undefined)[] = [];
  /** committed[i - 1] is the entry committed at index i; commits always form a prefix. */
  private readonly committed: CommittedRecord[] = [];
  private readonly applied: (AppliedRecord | undefined)[] = [];
  private readonly watches = new Map<NodeId, NodeWatch>();

  constructor(private readonly report: ViolationReporter) {}

  /** The highest index any node has been seen to commit. */
  get committedIndex(): LogIndex {
    return this.committed.length;
  }

  /** The entry committed at `index`, if any node has been seen to commit it. */
  committedEntry(index: LogIndex): Entry | undefined {
    return this.committed[index - 1]?.entry;
  }

  /** Every term that has had a leader, and who. */
  leaders(): ReadonlyMap<Term, NodeId> {
    return this.leaderOfTerm;
  }

  private watch(node: NodeId): NodeWatch {
    let watch = this.watches.get(node);
    if (watch === undefined) {
      watch = { commitIndex: 0, leaderTerm: 0, completeUpTo: 0 };
      this.watches.set(node, watch);
    }
    return watch;
  }

  /** A node crashed: what it knew in memory is gone, so re-check it from scratch after its restart. */
  forgetVolatile(node: NodeId): void {
    this.watches.delete(node);
  }

  /**
   * A node durably wrote `count` entries from index `first`; `log` is its
   * durable log after the write. `role` is its role after the event.
   */
  checkPersisted(node: NodeId, role: NodeStatus["role"], term: Term, previousLength: number, log: readonly Entry[], first: LogIndex, count: number): void {
    if (role === "leader" && first <= previousLength) {
      this.report(
        "leader append-only",
        `node ${node}, leader of term ${term}, overwrote its log from index ${first} (it held ${previousLength} entries)`,
      );
    }
    for (let index = first; index < first + count; index++) {
      const entry = log[index - 1]!;
      const previousTerm = index === 1 ? 0 : log[index - 2]!.term;
      let atIndex = this.positions[index];
      if (atIndex === undefined) {
        atIndex = new Map();
        this.positions[index] = atIndex;
      }
      const seen = atIndex.get(entry.term);
      if (seen === undefined) {
        atIndex.set(entry.term, { entry, previousTerm, node });
        continue;
      }
      if (!sameEntry(seen.entry, entry)) {
        this.report(
          "log matching",
          `two different entries at (${index},${entry.term}): node ${seen.node} stored ${describeEntry(seen.entry)}, node ${node} stored ${describeEntry(entry)}`,
        );
      }
      if (seen.previousTerm !== previousTerm) {
        this.report(
          "log matching",
          `entry (${index},${entry.term}) follows term ${seen.previousTerm} at node ${seen.node} but term ${previousTerm} at node ${node}: the logs differ before a shared entry`,
        );
      }
    }
  }

  /** Checks the node's view after an event: its role, its commitIndex and, as leader, its log. */
  checkNode(status: NodeStatus, log: LogView): void {
    const watch = this.watch(status.id);
    if (status.role === "leader") {
      const leader = this.leaderOfTerm.get(status.term);
      if (leader === undefined) this.leaderOfTerm.set(status.term, status.id);
      else if (leader !== status.id) {
        this.report("election safety", `nodes ${leader} and ${status.id} were both leaders in term ${status.term}`);
      }
    }
    if (status.commitIndex < watch.commitIndex) {
      this.report("commit safety", `node ${status.id} lowered its commitIndex from ${watch.commitIndex} to ${status.commitIndex} while running`);
    }
    if (status.commitIndex > watch.commitIndex) this.recordCommits(status, log, watch);
    if (status.role === "leader") this.checkLeaderComplete(status, log, watch);
  }

  private recordCommits(status: NodeStatus, log: LogView, watch: NodeWatch): void {
    if (status.commitIndex > status.lastLogIndex) {
      this.report("commit safety", `node ${status.id} has commitIndex ${status.commitIndex} beyond its last index ${status.lastLogIndex}`);
    }
    for (let index = watch.commitIndex + 1; index <= status.commitIndex; index++) {
      const entry = log.logEntry(index)!;
      const known = this.committed[index - 1];
      if (known === undefined) {
        this.committed.push({ entry, commitTerm: status.term, node: status.id });
      } else if (!sameEntry(known.entry, entry)) {
        this.report(
          "commit safety",
          `index ${index}: node ${known.node} committed ${describeEntry(known.entry)} in term ${known.commitTerm}, node ${status.id} (term ${status.term}) committed ${describeEntry(entry)}`,
        );
      }
    }
    watch.commitIndex = status.commitIndex;
  }

  private checkLeaderComplete(status: NodeStatus, log: LogView, watch: NodeWatch): void {
    if (watch.leaderTerm !== status.term) {
      watch.leaderTerm = status.term;
      watch.completeUpTo = 0;
    }
    for (let index = watch.completeUpTo + 1; index <= this.committed.length; index++) {
      const known = this.committed[index - 1]!;
      if (known.commitTerm >= status.term) break;
      const held = log.logEntry(index);
      if (held === undefined || !sameEntry(held, known.entry)) {
        this.report(
          "leader completeness",
          `node ${status.id} leads term ${status.term} but holds ${held === undefined ? "nothing" : describeEntry(held)} at index ${index}, ` +
            `where ${describeEntry(known.entry)} was committed in term ${known.commitTerm} (first seen at node ${known.node})`,
        );
      }
      watch.completeUpTo = index;
    }
  }

  /** A node applied `entry` to its state machine, expecting `expectedIndex` next; its commitIndex is `commitIndex`. */
  checkApplied(node: NodeId, entry: Entry, expectedIndex: LogIndex, commitIndex: LogIndex): void {
    if (entry.index !== expectedIndex) {
      this.report("state machine safety", `node ${node} applied index ${entry.index} when index ${expectedIndex} was next`);
    }
    if (entry.index > commitIndex) {
      this.report("state machine safety", `node ${node} applied index ${entry.index} beyond its commitIndex ${commitIndex}`);
    }
    const first = this.applied[entry.index];
    if (first === undefined) {
      this.applied[entry.index] = { entry, node };
    } else if (!sameEntry(first.entry, entry)) {
      this.report(
        "state machine safety",
        `index ${entry.index}: node ${first.node} applied ${describeEntry(first.entry)}, node ${node} applied ${describeEntry(entry)}`,
      );
    }
  }

  /**
   * After every Ready is handled, a node's log must be what it persisted. A
   * cheap look at the length and last entry runs after every event; the full
   * comparison from time to time.
   */
  checkLogPersisted(status: NodeStatus, log: LogView, durable: readonly Entry[], full: boolean): void {
    const last = status.lastLogIndex;
    let differs = last !== durable.length || (last > 0 && !sameEntry(log.logEntry(last)!, durable[last - 1]!));
    for (let index = 1; full && !differs && index <= last; index++) differs = !sameEntry(log.logEntry(index)!, durable[index - 1]!);
    if (differs) {
      this.report(
        "persistence",
        `node ${status.id} holds ${last} entries in its log but ${durable.length} on disk after handling every Ready ` +
          `(an entry reached the log without going through Ready.entries)`,
      );
    }
  }
}

interface PendingRead {
  readonly node: NodeId;
  /** The highest index any node had committed when the read was asked. */
  readonly requiredIndex: LogIndex;
  readonly askedAtMs: number;
}

/**
 * Linearizable reads (§8): a ReadState must carry an index at or above every
 * commit known anywhere when the read was asked, or the read could miss a
 * completed write; it must come from the node that was asked, and each read
 * ends exactly once (confirmed or dropped).
 */
export class ReadIndexChecker {
  private readonly pending = new Map<number, PendingRead>();
  private nextContext = 1;
  confirmed = 0;
  dropped = 0;

  constructor(private readonly report: ViolationReporter) {}

  /** Registers a read about to be asked of `node`; returns its context. */
  register(node: NodeId, requiredIndex: LogIndex, askedAtMs: number): number {
    const context = this.nextContext++;
    this.pending.set(context, { node, requiredIndex, askedAtMs });
    return context;
  }

  /** The node refused the read (not leader): it will never answer it. */
  cancel(context: number): void {
    this.pending.delete(context);
  }

  /** A node crashed: its pending reads died with it. */
  forgetNode(node: NodeId): void {
    for (const [context, read] of this.pending) if (read.node === node) this.pending.delete(context);
  }

  check(node: NodeId, readStates: readonly ReadState[], droppedReads: readonly number[]): void {
    for (const state of readStates) {
      const read = this.take(node, state.context, "confirmed");
      if (state.index < read.requiredIndex) {
        this.report(
          "read linearizability",
          `node ${node} confirmed read ${state.context} (asked at t=${read.askedAtMs}ms) at index ${state.index}, ` +
            `but index ${read.requiredIndex} was already committed when it was asked`,
        );
      }
      this.confirmed++;
    }
    for (const context of droppedReads) {
      this.take(node, context, "dropped");
      this.dropped++;
    }
  }

  private take(node: NodeId, context: number, outcome: string): PendingRead {
    const read = this.pending.get(context);
    if (read === undefined || read.node !== node) {
      this.report(
        "read linearizability",
        `node ${node} ${outcome} read ${context}, which ${read === undefined ? "is not pending (answered twice, or never asked)" : `was asked of node ${read.node}`}`,
      );
    }
    this.pending.delete(context);
    return read;
  }
}
