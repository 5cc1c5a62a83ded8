/**
 * Deliberately broken Raft cores, for the teeth test: a simulator that passes
 * them has no teeth. Each one breaks one rule of Figure 2, without editing
 * src/raft, by wrapping RaftNode (rewriting what it receives) or, where no
 * message can express the bug, by replacing one method on a test instance.
 */
import { RaftNode, type Message, type RaftNodeOptions } from "../../src/raft/index.ts";
import type { NodeFactory, SimNode } from "./sim-cluster.ts";

/** A RaftNode whose incoming messages pass through `rewrite` first. */
function rewritingNode(options: RaftNodeOptions, rewrite: (message: Message, node: RaftNode) => Message): SimNode {
  const node = new RaftNode(options);
  return new Proxy(node, {
    get(target, property, receiver) {
      if (property === "step") return (message: Message) => target.step(rewrite(message, target));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The private shape of the core that `commitOldTermEntries` relies on. It is
 * checked at run time, so that a refactored core fails this test loudly
 * instead of letting it test nothing.
 */
interface CommitInternals {
  maybeCommit: () => void;
  releaseReads: () => void;
  state: { role: string; progress?: Map<number, { matchIndex: number }> };
  log: { stableIndex: number; commitIndex: number; commitTo(index: number): boolean };
}

function internalsOf(node: RaftNode): CommitInternals {
  const raft: unknown = (node as unknown as { raft?: unknown }).raft;
  const shape = raft as Partial<CommitInternals> | undefined;
  if (
    typeof shape?.maybeCommit !== "function" ||
    typeof shape.releaseReads !== "function" ||
    typeof shape.log?.commitTo !== "function" ||
    typeof shape.log.stableIndex !== "number"
  ) {
    throw new Error("teeth: RaftNode no longer has the internals this broken core patches (raft.maybeCommit, raft.log); update broken-cores.ts");
  }
  return raft as CommitInternals;
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
      const held = node.logEntries()[message.prevLogIndex - 1];
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
} satisfies Record<string, NodeFactory>;

export type BrokenCoreName = keyof typeof brokenCores;

export function isBrokenCoreName(name: string): name is BrokenCoreName {
  return Object.hasOwn(brokenCores, name);
}
