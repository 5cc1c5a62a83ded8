import type { Entry, NodeId, RaftNodeOptions } from "../../src/raft/index.ts";
import { sameEntry } from "./checkers.ts";
import { SimCluster, type SimNode } from "./sim-cluster.ts";
import { awaitCommitted, awaitLeader, awaitThat, expectThat, proposeAt, uniqueCommand } from "./scenario-steps.ts";

/**
 * Figure 8 of the Raft paper (§5.4.2), played step by step on five nodes by
 * crashing nodes and losing chosen messages. The figure's S1 is `first`, S2
 * `second`, S5 `stale`, S3 and S4 are `others`. Our leaders append a no-op
 * when elected, so that no-op plays the figure's entries of new terms.
 *
 * Each AppendEntries carries one entry, so that the old entry and the new
 * leader's no-op travel in separate messages and can be told apart.
 */
export class Figure8Script {
  readonly cluster: SimCluster;
  first = 0;
  second = 0;
  stale = 0;
  others: NodeId[] = [];
  /** The entry at index 2 that `first` writes in the first term: the one that must not be committed by counting. */
  oldEntry: Entry | null = null;
  private dropMessages: (() => void) | null = null;

  constructor(seed: number, createNode?: (options: RaftNodeOptions) => SimNode) {
    this.cluster = new SimCluster({ seed, size: 5, raft: { entriesPerAppendMax: 1 }, createNode });
  }

  private stopDropping(): void {
    this.dropMessages?.();
    this.dropMessages = null;
  }

  private holdsOldEntry(id: NodeId): boolean {
    const held = this.cluster.node(id)?.logEntry(2);
    return held !== undefined && this.oldEntry !== null && sameEntry(held, this.oldEntry);
  }

  /** (a) `first` leads; the old entry reaches `second` only. */
  stepA(): void {
    const cluster = this.cluster;
    this.first = awaitLeader(cluster);
    awaitCommitted(cluster, cluster.ids, 1);
    this.second = cluster.ids.find((id) => id !== this.first)!;
    cluster.network.partition([[this.first, this.second]]);
    const data = uniqueCommand();
    const { index, term } = proposeAt(cluster, this.first, data);
    expectThat(cluster, index === 2, `the old entry went to index ${index}, not 2`);
    this.oldEntry = { index, term, type: "command", data };
    awaitThat(cluster, "the old entry reaches the second node", () => this.holdsOldEntry(this.second));
  }

  /** (b) `first` and `second` crash; `stale` is elected by the other three, but its no-op at index 2 never leaves it; it crashes. */
  stepB(): void {
    const cluster = this.cluster;
    cluster.crash(this.first);
    cluster.crash(this.second);
    cluster.network.heal();
    this.dropMessages = cluster.network.dropWhen((message) => message.type === "AppendEntries" && message.entries.length > 0);
    const three = cluster.ids.filter((id) => id !== this.first && id !== this.second);
    this.stale = awaitLeader(cluster, three);
    cluster.crash(this.stale);
    this.stopDropping();
    this.others = three.filter((id) => id !== this.stale);
    const staleLog = cluster.durableLog(this.stale);
    expectThat(cluster, staleLog.lastIndex === 2 && staleLog.term(2)! > this.oldEntry!.term, "the stale leader holds its own entry at index 2");
  }

  /**
   * (c) `first` restarts and leads a newer term (it alone holds the newest
   * log among the running nodes). It replicates the old entry to `others`,
   * which puts it on a majority (first, second's disk, others), but its own
   * no-op at index 3 is lost on the way to any node that already holds index 2.
   */
  stepC(): void {
    const cluster = this.cluster;
    cluster.restart(this.first);
    this.dropMessages = cluster.network.dropWhen(
      (message) =>
        message.type === "AppendEntries" &&
        message.from === this.first &&
        message.entries.some((entry) => entry.index >= 3) &&
        (cluster.status(message.to)?.lastLogIndex ?? 0) >= 2,
    );
    const leader = awaitLeader(cluster, [this.first, ...this.others]);
    expectThat(cluster, leader === this.first, `node ${this.first} leads again, not node ${leader}`);
    awaitThat(cluster, "the old entry reaches the others", () => this.others.every((id) => this.holdsOldEntry(id)));
    // Long enough for the acknowledgements to reach the leader, shorter than an election timeout.
    cluster.runFor(30);
  }

  /** (d) `first` crashes; `stale` restarts, wins (its last term is newer) and overwrites index 2 on the others. */
  stepD(): void {
    const cluster = this.cluster;
    cluster.crash(this.first);
    this.stopDropping();
    cluster.restart(this.stale);
    const leader = awaitLeader(cluster, [this.stale, ...this.others]);
    expectThat(cluster, leader === this.stale, `the stale node ${this.stale} is elected, not node ${leader}`);
    awaitCommitted(cluster, [this.stale, ...this.others], 3);
  }

  /**
   * (e) Instead of (d): `first`'s no-op reaches the others and commits, and the
   * old entry with it; `first` crashes; `stale` restarts but can no longer
   * win, so the old entry survives.
   */
  stepE(): void {
    const cluster = this.cluster;
    this.stopDropping();
    awaitCommitted(cluster, [this.first, ...this.others], 3);
    cluster.crash(this.first);
    cluster.restart(this.stale);
    const leader = awaitLeader(cluster, [this.stale, ...this.others]);
    expectThat(cluster, leader !== this.stale, "the stale node cannot be elected once the new no-op committed");
    awaitCommitted(cluster, [this.stale, ...this.others], 4);
  }

  /** Every node back up; waits until all of them have committed what the leader has. */
  restartAll(): void {
    const cluster = this.cluster;
    for (const id of cluster.ids) if (!cluster.isUp(id)) cluster.restart(id);
    const leader = awaitLeader(cluster);
    const last = cluster.status(leader)!.lastLogIndex;
    awaitCommitted(cluster, cluster.ids, last);
  }
}
