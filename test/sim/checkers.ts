import type { Entry, FollowerProgress, HardState, LogIndex, NodeId, NodeStatus, ReadState, SnapshotMeta, Term } from "../../src/raft/index.ts";
import type { DurableLog, StoredSnapshotRecord } from "./durable-log.ts";

/** The property a violation breaks. */
export type CheckerName =
  | "election safety"
  | "log matching"
  | "leader append-only"
  | "leader completeness"
  | "lost commit"
  | "match index"
  | "commit safety"
  | "state machine safety"
  | "persistence"
  | "read linearizability"
  | "election rules"
  | "single-server change"
  | "one change at a time"
  | "commit quorum"
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

/** Whether the node's log and its disk hold the same entry at `index`. */
function sameStored(log: LogView, durable: DurableLog, index: LogIndex): boolean {
  const held = log.logEntry(index);
  const stored = durable.entry(index);
  return held !== undefined && stored !== undefined && sameEntry(held, stored);
}

/** `(index,term) type "data"` for violation reports; bytes outside printable ASCII show as dots. */
export function describeEntry(entry: Entry): string {
  const shown = Array.from(entry.data.subarray(0, 60), (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".")).join("");
  return `(${entry.index},${entry.term}) ${entry.type}${entry.data.length === 0 ? "" : ` "${shown}"`}`;
}

/**
 * A node's log as the checkers read it (from the status's logStartIndex to
 * its lastLogIndex): entry by entry, so that a check costs what it looks at.
 * The core holds only a tail in memory and reads older entries back from its
 * storage (docs/architecture.md §2); entries up to the log's start are gone,
 * only the start's term is kept (dissertation ch. 5).
 */
export interface LogView {
  logEntry(index: LogIndex): Entry | undefined;
  logTerm(index: LogIndex): Term | undefined;
}

interface PositionRecord {
  readonly entry: Entry;
  readonly previousTerm: Term;
  readonly node: NodeId;
  /**
   * The configuration entry in force at this position of the history: the
   * latest at or before it (dissertation §4.1). Null when there is none yet
   * (the seed's configuration holds); undefined when the checker never saw
   * the entry before this one, a history only a broken core makes.
   */
  readonly config: Entry | null | undefined;
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

/** The state machine's history hash after index i, as the first node to reach i had it. */
interface HistoryRecord {
  readonly hash: number;
  readonly node: NodeId;
  /** How that node got there (it applied the entry, or restored a snapshot ending there), for reports. */
  readonly how: string;
}

/** What a server holds on disk: its hard state and its log. */
export interface ServerDisk {
  readonly savedHardState: HardState;
  readonly durable: DurableLog;
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
 *   checking each entry once, when it is persisted, costs O(1). An entry
 *   stored right after a log's start (a compacted log, or an installed
 *   snapshot: dissertation ch. 5) follows the start's term.
 * - Leader append-only: a leader never overwrites its own log.
 * - Leader completeness: an entry committed in term T is in the log of every
 *   leader of a term above T.
 * - No lost commit: where such a leader's log starts after a committed entry,
 *   its stored snapshot covers it, and is the committed history up to the
 *   snapshot's end (position and state-machine hash).
 * - Match index: a leader's matchIndex for a follower still in its term is
 *   durably on that follower (an entry of the leader's, or a snapshot past
 *   it): the leader counts it toward commitment (§5.3).
 * - Commit safety: no two nodes ever consider different entries committed at
 *   one index (what state machine safety rests on); a log starts only after a
 *   committed entry (a snapshot holds nothing else, §5.1).
 * - State machine safety: no two nodes apply different entries at one index,
 *   and each node applies 1, 2, 3 … in order, only what it has committed;
 *   the state after index i (its history hash) is the same on every node,
 *   whether it applied the entries or restored a snapshot ending at i, and
 *   no running node restores a snapshot at or below what it applied.
 */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<Term, NodeId>();
  private readonly positions: (Map<Term, PositionRecord> | undefined)[] = [];
  /** committed[i - 1] is the entry committed at index i; commits always form a prefix. */
  private readonly committed: CommittedRecord[] = [];
  private readonly applied: (AppliedRecord | undefined)[] = [];
  private readonly history: (HistoryRecord | undefined)[] = [];
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

  /**
   * The configuration entry in force at position (index, term) of the
   * history, as the logs that hold it have it (by Log Matching they agree
   * up to it): the latest at or before it. Null when there is none (the
   * seed's configuration); undefined when no server stored that position.
   */
  configEntryAt(index: LogIndex, term: Term): Entry | null | undefined {
    return index === 0 ? null : this.positions[index]?.get(term)?.config;
  }

  /** The configuration entry in force just before configuration entry `entry`, as configEntryAt says. */
  configEntryBefore(entry: Entry): Entry | null | undefined {
    const previousTerm = this.positions[entry.index]?.get(entry.term)?.previousTerm;
    return previousTerm === undefined ? undefined : this.configEntryAt(entry.index - 1, previousTerm);
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
   * durable log after the write, which held entries up to `previousLastIndex`
   * before. `role` is its role after the event.
   */
  checkPersisted(node: NodeId, role: NodeStatus["role"], term: Term, previousLastIndex: LogIndex, log: DurableLog, first: LogIndex, count: number): void {
    if (role === "leader" && first <= previousLastIndex) {
      this.report(
        "leader append-only",
        `node ${node}, leader of term ${term}, overwrote its log from index ${first} (it held entries up to ${previousLastIndex})`,
      );
    }
    for (let index = first; index < first + count; index++) {
      const entry = log.entry(index)!;
      const previousTerm = log.term(index - 1)!;
      let atIndex = this.positions[index];
      if (atIndex === undefined) {
        atIndex = new Map();
        this.positions[index] = atIndex;
      }
      const seen = atIndex.get(entry.term);
      if (seen === undefined) {
        const config = entry.type === "config" ? entry : this.configEntryAt(index - 1, previousTerm);
        atIndex.set(entry.term, { entry, previousTerm, node, config });
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

  /**
   * Checks the node's view after an event: its role, its commitIndex and, as
   * leader, its log and its stored snapshot (`stored`, null when none).
   */
  checkNode(status: NodeStatus, log: LogView, stored: StoredSnapshotRecord | null): void {
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
    if (status.logStartIndex > watch.commitIndex) this.checkLogStart(status, log, watch);
    if (status.commitIndex > watch.commitIndex) this.recordCommits(status, log, watch);
    if (status.role === "leader") this.checkLeaderComplete(status, log, stored, watch);
  }

  /**
   * The node's log starts after entries it can no longer show (compacted, or
   * replaced by a snapshot): they must be committed, and the start must be
   * the committed entry's position. Entries up to there count as checked.
   */
  private checkLogStart(status: NodeStatus, log: LogView, watch: NodeWatch): void {
    const start = status.logStartIndex;
    const term = log.logTerm(start);
    const known = this.committed[start - 1];
    if (known === undefined || known.entry.term !== term) {
      this.report(
        "commit safety",
        `node ${status.id}'s log starts after entry (${start},${term ?? "?"}), but ` +
          (known === undefined ? `only entries up to ${this.committed.length} were ever committed` : `${describeEntry(known.entry)} was committed there (first seen at node ${known.node})`),
      );
    }
    watch.commitIndex = start;
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

  private checkLeaderComplete(status: NodeStatus, log: LogView, stored: StoredSnapshotRecord | null, watch: NodeWatch): void {
    if (watch.leaderTerm !== status.term) {
      watch.leaderTerm = status.term;
      watch.completeUpTo = 0;
    }
    for (let index = watch.completeUpTo + 1; index <= this.committed.length; index++) {
      const known = this.committed[index - 1]!;
      if (known.commitTerm >= status.term) break;
      if (index <= status.logStartIndex) {
        this.checkCoveredBySnapshot(status, stored, index);
        index = watch.completeUpTo = status.logStartIndex;
        continue;
      }
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

  /**
   * Figure 2: a leader commits by counting its followers' matchIndex (§5.3),
   * so a matchIndex must never run ahead of what the follower has stored of
   * the leader's log (acknowledged only after its save). While the follower
   * is still in the leader's term, no later leader can have replaced those
   * entries: its disk must hold the leader's entry there, or a snapshot
   * (committed, so agreeing with every leader) past it.
   */
  checkMatchIndexes(status: NodeStatus, log: LogView, followers: readonly FollowerProgress[], disk: (id: NodeId) => ServerDisk): void {
    for (const { id, matchIndex } of followers) {
      const { savedHardState, durable } = disk(id);
      if (savedHardState.currentTerm !== status.term || matchIndex <= durable.start.index) continue;
      const expected = log.logTerm(matchIndex) ?? this.committed[matchIndex - 1]?.entry.term;
      const held = durable.term(matchIndex);
      if (held !== expected) {
        this.report(
          "match index",
          `node ${status.id}, leader of term ${status.term}, counts node ${id} as matching up to ${matchIndex} (term ${expected ?? "?"}), ` +
            `but its disk holds ${held === undefined ? `entries ${durable.start.index + 1} to ${durable.lastIndex} only` : `term ${held} there`}`,
        );
      }
    }
  }

  /**
   * The leader's log starts after committed entry `index`: its stored
   * snapshot must reach the log's start, end at a committed position, and
   * hold the state every replica had there.
   */
  private checkCoveredBySnapshot(status: NodeStatus, stored: StoredSnapshotRecord | null, index: LogIndex): void {
    const lost = (why: string): never =>
      this.report("lost commit", `node ${status.id} leads term ${status.term}; its log starts after ${status.logStartIndex}, so committed entry ${index} is gone from it, and ${why}`);
    if (stored === null) return lost("it stores no snapshot");
    const { meta, hash } = stored;
    if (meta.index < status.logStartIndex) lost(`its stored snapshot ends at ${meta.index}`);
    const known = this.committed[meta.index - 1];
    if (known !== undefined && known.entry.term !== meta.term) {
      lost(`its stored snapshot ends at (${meta.index},${meta.term}), where ${describeEntry(known.entry)} was committed`);
    }
    const history = this.history[meta.index];
    if (history !== undefined && history.hash !== hash) {
      lost(`the image of its stored snapshot at ${meta.index} is not the state node ${history.node} had there (${history.how})`);
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

  /** A node's state machine reached `index` with history hash `hash`, by applying its entry or restoring a snapshot ending there (`how`). */
  checkHistory(node: NodeId, index: LogIndex, hash: number, how: string): void {
    const first = this.history[index];
    if (first === undefined) {
      this.history[index] = { hash, node, how };
    } else if (first.hash !== hash) {
      this.report("state machine safety", `node ${node}'s state after index ${index} (${how}) differs from node ${first.node}'s (${first.how})`);
    }
  }

  /**
   * A node restored its state machine from the snapshot `meta` (dissertation
   * §5.1): at start-up from its own storage (`appliedBefore` null), or, while
   * running, from a leader's snapshot it installed, having applied up to
   * `appliedBefore`. The image must end where the snapshot says, be a state
   * some replica reached by applying entries, and move the state forward.
   */
  checkRestored(node: NodeId, meta: SnapshotMeta, imageIndex: LogIndex, hash: number, appliedBefore: LogIndex | null): void {
    if (imageIndex !== meta.index) {
      this.report("state machine safety", `node ${node} restored the snapshot (${meta.index},${meta.term}) from an image of the state at ${imageIndex}`);
    }
    if (appliedBefore !== null && meta.index <= appliedBefore) {
      this.report(
        "state machine safety",
        `node ${node} had applied entries up to ${appliedBefore}, then restored a snapshot at ${meta.index}: a snapshot that does not move the state forward must not be installed (§5.1)`,
      );
    }
    if (this.history[meta.index] === undefined) {
      this.report("state machine safety", `node ${node} restored a snapshot at ${meta.index}, a state no replica reached by applying entries`);
    }
    this.checkHistory(node, meta.index, hash, appliedBefore === null ? "restored its stored snapshot at start-up" : "installed a leader's snapshot");
  }

  /**
   * After every Ready is handled, a node's log must be what it persisted: the
   * same start, the same snapshot, the same entries. A cheap look at the ends
   * runs after every event; the full comparison from time to time.
   */
  checkLogPersisted(status: NodeStatus, log: LogView, durable: DurableLog, full: boolean): void {
    const start = status.logStartIndex;
    const last = status.lastLogIndex;
    let differs = start !== durable.start.index || last !== durable.lastIndex || (last > start && !sameStored(log, durable, last));
    for (let index = start + 1; full && !differs && index <= last; index++) differs = !sameStored(log, durable, index);
    if (differs) {
      this.report(
        "persistence",
        `node ${status.id} holds entries ${start + 1} to ${last} in its log but ${durable.start.index + 1} to ${durable.lastIndex} on disk ` +
          `after handling every Ready (the log changed without going through Ready.entries or Ready.snapshot)`,
      );
    }
    const storedIndex = durable.snapshot?.meta.index ?? 0;
    if (status.snapshotIndex !== storedIndex) {
      this.report("persistence", `node ${status.id}'s snapshot ends at ${status.snapshotIndex}, but the one on its disk at ${storedIndex}`);
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
