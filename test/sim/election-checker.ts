import type { Message, NodeId, NodeStatus, ProposeResult } from "../../src/raft/index.ts";
import type { SimRaftSettings } from "./sim-cluster.ts";
import type { ViolationReporter } from "./checkers.ts";

/**
 * The rules that keep elections from disrupting a healthy cluster, checked
 * after every event as the safety checkers are:
 *
 * - a PreVote changes neither the receiver's term nor its vote
 *   (dissertation §9.6);
 * - a leader handing over leadership takes no proposal (dissertation §3.10);
 * - with electionTimerFromFirstTick, a node asks for no (pre-)vote of its own
 *   accord before a full election timeout after its first tick: only a
 *   forced campaign (the controller's, or one a leader handed over) may
 *   come sooner.
 */
export class ElectionChecker {
  /** When each running node first ticked; absent until it has. */
  private readonly firstTickAtMs = new Map<NodeId, number>();

  constructor(
    private readonly settings: SimRaftSettings,
    private readonly report: ViolationReporter,
  ) {}

  /** A node (re)started: its first tick is still to come. */
  started(id: NodeId): void {
    this.firstTickAtMs.delete(id);
  }

  ticked(id: NodeId, nowMs: number): void {
    if (!this.firstTickAtMs.has(id)) this.firstTickAtMs.set(id, nowMs);
  }

  /** `before` and `after` are the receiver's status around stepping `message` and handling its Ready. */
  stepped(message: Message, before: NodeStatus, after: NodeStatus): void {
    if (message.type !== "PreVote") return;
    if (before.term !== after.term || before.votedFor !== after.votedFor) {
      this.report(
        "election rules",
        `node ${after.id} went from term ${before.term} (voted ${before.votedFor ?? "-"}) to term ${after.term} (voted ${after.votedFor ?? "-"}) on a PreVote from node ${message.from}`,
      );
    }
  }

  /** Node `id` took a proposal, a command or a configuration change, or refused it (`result`). */
  proposed(id: NodeId, before: NodeStatus, result: ProposeResult | { readonly ok: false }): void {
    if (before.transferTarget !== null && result.ok) {
      this.report("election rules", `node ${id} took a proposal at index ${result.index} while handing leadership to node ${before.transferTarget}`);
    }
  }

  /** Messages node `id` sends at `nowMs`. */
  sent(id: NodeId, messages: readonly Message[], nowMs: number): void {
    if (!this.settings.electionTimerFromFirstTick) return;
    const firstTick = this.firstTickAtMs.get(id);
    const earliest = firstTick === undefined ? Infinity : firstTick + this.settings.electionTimeoutMsMin;
    if (nowMs >= earliest) return;
    for (const message of messages) {
      const unforced = message.type === "PreVote" || (message.type === "RequestVote" && message.forced !== true);
      if (unforced) {
        this.report(
          "election rules",
          `node ${id} sent ${message.type} for term ${message.term} at t=${nowMs}ms, ` +
            `${firstTick === undefined ? "before its first tick" : `${nowMs - firstTick}ms after its first tick (at ${firstTick}ms)`}: sooner than a full election timeout`,
        );
      }
    }
  }
}
