/**
 * Deliberately broken Raft cores, for the teeth test: a simulator that passes
 * them has no teeth. Each one breaks one rule of Figure 2, or of the
 * dissertation's log compaction (ch. 5) or membership changes (ch. 4),
 * without editing src/raft, by wrapping RaftNode (rewriting what it
 * receives) or, where no message can express the bug, by replacing one
 * method on a test instance.
 */
import { RaftNode, type Entry, type LogIndex, type Membership, type MembershipChange, type Message, type RaftNodeOptions, type SnapshotMeta } from "../../src/raft/index.ts";
import type { NodeFactory, SimNode } from "./sim-cluster.ts";

/** `node` with its step replaced by `step`, which may call the real one. */
function steppingNode(node: RaftNode, step: (message: Message, realStep: (message: Message) => void) => void): SimNode {
  return new Proxy(node, {
    get(target, property, receiver) {
      if (property === "step") return (message: Message) => step(message, (passed) => target.step(passed));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A RaftNode whose incoming messages pass through `rewrite` first. */
function rewritingNode(options: RaftNodeOptions, rewrite: (message: Message, node: RaftNode) => Message): SimNode {
  const node = new RaftNode(options);
  return steppingNode(node, (message, realStep) => realStep(rewrite(message, node)));
}

/**
 * The private shape of the core that the patched broken cores rely on. It is
 * checked at run time, so that a refactored core fails this test loudly
 * instead of letting it test nothing.
 */
interface CoreInternals {
  readonly id: number;
  currentTerm: number;
  maybeCommit: () => void;
  releaseReads: () => void;
  afterCommit: () => void;
  membershipChanged: () => void;
  proposeMembership: RaftNode["proposeMembership"];
  state: { role: string; progress?: Map<number, { matchIndex: number }> };
  installed: unknown;
  memberships: { current(): Membership; currentIndex(): LogIndex; at(index: LogIndex): Membership };
  log: {
    stableIndex: number;
    commitIndex: number;
    commitTo(index: number): boolean;
    entries: Entry[];
    all(): readonly Entry[];
    term(index: number): number | undefined;
    matchTerm(index: number, term: number): boolean;
    restore(snapshot: SnapshotMeta): void;
  };
}

function internalsOf(node: RaftNode): CoreInternals {
  const raft: unknown = (node as unknown as { raft?: unknown }).raft;
  const shape = raft as Partial<CoreInternals> | undefined;
  if (
    typeof shape?.maybeCommit !== "function" ||
    typeof shape.releaseReads !== "function" ||
    typeof shape.afterCommit !== "function" ||
    typeof shape.membershipChanged !== "function" ||
    typeof shape.proposeMembership !== "function" ||
    typeof shape.memberships?.current !== "function" ||
    typeof shape.memberships.currentIndex !== "function" ||
    typeof shape.memberships.at !== "function" ||
    typeof shape.log?.term !== "function" ||
    !("installed" in shape) ||
    typeof shape.log?.commitTo !== "function" ||
    typeof shape.log.restore !== "function" ||
    !Array.isArray(shape.log.entries) ||
    typeof shape.log.matchTerm !== "function" ||
    typeof shape.log.stableIndex !== "number" ||
    typeof shape.log.commitIndex !== "number"
  ) {
    throw new Error(
      "teeth: RaftNode no longer has the internals these broken cores patch (raft.maybeCommit, raft.installed, raft.memberships, raft.log); update broken-cores.ts",
    );
  }
  return raft as CoreInternals;
}

/** The broken cores, by name (ZRAFT_BROKEN=<name> replays a seed with one). */
export const brokenCores = {
  /** §5.4.1 broken: a vote (and a pre-vote, dissertation §9.6) is granted whatever the candidate's log holds. */
  "vote-without-log-check": (options) =>
    rewritingNode(options, (message) =>
      message.type === "RequestVote" || message.type === "PreVote" ? { ...message, lastLogIndex: Number.MAX_SAFE_INTEGER, lastLogTerm: message.term } : message,
    ),

  /** §5.2 broken: a candidate counts a refusal as a vote. */
  "count-refusals-as-votes": (options) =>
    rewritingNode(options, (message) => (message.type === "RequestVoteResponse" ? { ...message, voteGranted: true } : message)),

  /** §5.3 broken: a follower accepts entries without checking that its log matches at prevLogIndex. */
  "skip-consistency-check": (options) =>
    rewritingNode(options, (message, node) => {
      if (message.type !== "AppendEntries") return message;
      const held = node.logEntry(message.prevLogIndex);
      return held === undefined ? message : { ...message, prevLogTerm: held.term };
    }),

  /** §5.4.2 (Figure 8) broken: a leader commits an entry of an earlier term by counting its replicas. */
  "commit-old-term-entries": (options) => {
    const node = new RaftNode(options);
    const raft = internalsOf(node);
    raft.maybeCommit = () => {
      const progress = raft.state.progress;
      if (progress === undefined) return;
      const matches = [raft.log.stableIndex, ...[...progress.values()].map((pr) => pr.matchIndex)].sort((a, b) => b - a);
      const candidate = matches[Math.floor(matches.length / 2)]!;
      if (candidate > raft.log.commitIndex) {
        raft.log.commitTo(candidate);
        raft.releaseReads();
      }
    };
    return node;
  },

  /** §5.2 and Figure 2 broken (in the runtime): votedFor is not kept across a restart, so a node can vote twice in a term. */
  "forget-vote-on-restart": (options) => new RaftNode({ ...options, hardState: { ...options.hardState, votedFor: null } }),

  /**
   * Dissertation §5.1 (Figure 5.3, "discard the entire log") broken: a
   * follower installs a snapshot but keeps the entries it held after it,
   * though they may come from a leader whose log the snapshot's contradicts.
   * They stay in the log unsaved, so the runtime stores them after the
   * snapshot (their bytes go uncounted: no run of this core lives long).
   */
  "install-snapshot-keeping-suffix": (options) => {
    const node = new RaftNode(options);
    const { log } = internalsOf(node);
    const restore = log.restore.bind(log);
    log.restore = (snapshot) => {
      const suffix = log.all().filter((entry) => entry.index > snapshot.index);
      restore(snapshot);
      log.entries.push(...suffix);
    };
    return node;
  },

  /**
   * Dissertation §5.1 broken: a follower installs every snapshot it gathers,
   * even one at or below its commit index (a late or repeated transfer), so
   * its state machine goes back to an older state, and its log loses
   * entries it acknowledged.
   */
  "install-snapshot-below-commit": (options) => {
    const node = new RaftNode(options);
    const raft = internalsOf(node);
    const { log } = raft;
    return steppingNode(node, (message, realStep) => {
      if (message.type !== "InstallSnapshot") return realStep(message);
      // While it looks at the snapshot, the follower forgets what it committed and what its log holds.
      const committed = log.commitIndex;
      const installedBefore = raft.installed;
      log.commitIndex = 0;
      log.matchTerm = () => false;
      realStep(message);
      Reflect.deleteProperty(log, "matchTerm");
      if (raft.installed === installedBefore) log.commitIndex = Math.max(log.commitIndex, committed);
    });
  },

  /**
   * Dissertation §5.1 broken: a leader takes a follower's answer to any
   * chunk for "done", and counts it as holding the snapshot before it has
   * gathered it all.
   */
  "snapshot-done-early": (options) =>
    rewritingNode(options, (message) => (message.type === "InstallSnapshotResponse" && !message.done ? { ...message, done: true } : message)),

  /**
   * Dissertation §4.1 broken: a leader appends a configuration change while
   * the one before it is not committed yet (its own promotions of learners
   * too), so two changes can be in flight at once.
   */
  "change-before-commit": (options) => {
    const node = new RaftNode(options);
    const raft = internalsOf(node);
    const propose = raft.proposeMembership.bind(raft);
    raft.proposeMembership = (change) => whilePatched(raft.memberships, "currentIndex", () => 0, () => propose(change));
    return node;
  },

  /**
   * Dissertation §4.1 broken: a leader that promotes a learner promotes
   * every other learner in the same configuration entry, two voters or
   * more at once, whose majorities need not overlap the old one's.
   */
  "promote-learners-together": (options) => {
    const node = new RaftNode(options);
    const raft = internalsOf(node);
    const propose = raft.proposeMembership.bind(raft);
    raft.proposeMembership = (change: MembershipChange) => {
      if (change.kind !== "promote") return propose(change);
      const { voters, learners, context } = raft.memberships.current();
      const together: Membership = { voters: [...voters, ...learners.filter((id) => id !== change.id)], learners: [change.id], context };
      const result = whilePatched(raft.memberships, "current", () => together, () => propose(change));
      // The configuration in force is read again now that the entry is in the log.
      raft.membershipChanged();
      return result;
    };
    return node;
  },

  /** Dissertation §4.2.1 broken: a leader counts its learners' acknowledgements toward a majority of its voters. */
  "learners-count-toward-commit": (options) => {
    const node = new RaftNode(options);
    const raft = internalsOf(node);
    raft.maybeCommit = () => {
      const progress = raft.state.progress;
      if (progress === undefined) return;
      const { voters, learners } = raft.memberships.current();
      const matches = [...voters, ...learners].map((id) => (id === raft.id ? raft.log.stableIndex : (progress.get(id)?.matchIndex ?? 0))).sort((a, b) => b - a);
      const candidate = matches[Math.floor(voters.length / 2)] ?? 0;
      if (candidate > raft.log.commitIndex && raft.log.term(candidate) === raft.currentTerm) {
        raft.log.commitTo(candidate);
        raft.releaseReads();
        raft.afterCommit();
      }
    };
    return node;
  },

  /**
   * Dissertation §4.1 broken: a server uses the latest committed
   * configuration in its log, not the latest: a change takes effect only
   * once committed (read again at every commit).
   */
  "committed-configuration": (options) => {
    const node = new RaftNode(options);
    const raft = internalsOf(node);
    const { memberships, log } = raft;
    memberships.current = () => memberships.at(log.commitIndex);
    const commitTo = log.commitTo.bind(log);
    log.commitTo = (index) => {
      const moved = commitTo(index);
      if (moved) raft.membershipChanged();
      return moved;
    };
    raft.membershipChanged();
    return node;
  },
} satisfies Record<string, NodeFactory>;

/** Runs `run` with `target[method]` replaced by `patch` on the instance, then puts the class's back. */
function whilePatched<T extends object, K extends keyof T, R>(target: T, method: K, patch: T[K], run: () => R): R {
  target[method] = patch;
  try {
    return run();
  } finally {
    Reflect.deleteProperty(target, method);
  }
}

export type BrokenCoreName = keyof typeof brokenCores;

export function isBrokenCoreName(name: string): name is BrokenCoreName {
  return Object.hasOwn(brokenCores, name);
}
