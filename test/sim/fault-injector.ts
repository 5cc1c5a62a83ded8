import type { NodeId } from "../../src/raft/index.ts";
import type { SimCluster } from "./sim-cluster.ts";
import type { SwarmOptions } from "./swarm.ts";

/**
 * Partitions and crashes at the rates a seed drew, every choice from the
 * cluster's seeded Random. Half the partitions cut the current leader off
 * (alone or with one follower), because that is where Raft's hard cases
 * live; the rest split the nodes into random groups.
 */
export class FaultInjector {
  private running = false;

  constructor(
    private readonly cluster: SimCluster,
    private readonly options: SwarmOptions,
  ) {}

  start(): void {
    this.running = true;
    if (this.options.partitionEveryMs !== null) this.schedulePartition(this.options.partitionEveryMs);
    if (this.options.crashEveryMs !== null) this.scheduleCrash(this.options.crashEveryMs);
  }

  /** No new faults; restarts already scheduled still happen. */
  stop(): void {
    this.running = false;
  }

  /** A pause of about `meanMs`: uniform in [mean/2, 3·mean/2]. */
  private pauseMs(meanMs: number): number {
    return this.cluster.random.intBetween(Math.ceil(meanMs / 2), Math.ceil((3 * meanMs) / 2));
  }

  private schedulePartition(everyMs: number): void {
    this.cluster.schedule(this.pauseMs(everyMs), () => {
      if (!this.running) return;
      const groups = this.drawGroups();
      this.cluster.network.partition(groups);
      this.cluster.trace.note(this.cluster.nowMs, `partition ${groups.map((group) => `{${group.join(",")}}`).join(" ")} | the rest`);
      const [shortest, longest] = this.options.partitionMs;
      this.cluster.schedule(this.cluster.random.intBetween(shortest, longest), () => {
        this.cluster.network.heal();
        this.cluster.trace.note(this.cluster.nowMs, "partition healed");
        if (this.running) this.schedulePartition(everyMs);
      });
    });
  }

  private drawGroups(): NodeId[][] {
    const { cluster } = this;
    const random = cluster.random;
    const leader = cluster.leader();
    if (leader !== null && random.next() < 0.5) {
      const others = cluster.ids.filter((id) => id !== leader);
      const companion = random.next() < 0.5 ? others[random.intBetween(0, others.length - 1)] : undefined;
      return [companion === undefined ? [leader] : [leader, companion]];
    }
    const groupCount = random.intBetween(2, 3);
    const groups: NodeId[][] = Array.from({ length: groupCount }, () => []);
    for (const id of cluster.ids) groups[random.intBetween(0, groupCount - 1)]!.push(id);
    return groups.filter((group) => group.length > 0);
  }

  private scheduleCrash(everyMs: number): void {
    this.cluster.schedule(this.pauseMs(everyMs), () => {
      if (!this.running) return;
      this.crashOne();
      this.scheduleCrash(everyMs);
    });
  }

  private crashOne(): void {
    const { cluster } = this;
    const random = cluster.random;
    const up = cluster.ids.filter((id) => cluster.isUp(id));
    // Keep one node up: a world with nobody in it explores nothing.
    if (up.length <= 1) return;
    const leader = cluster.leader();
    const victim = leader !== null && random.next() < 0.3 ? leader : up[random.intBetween(0, up.length - 1)]!;
    cluster.crash(victim);
    const [shortest, longest] = this.options.downtimeMs;
    cluster.schedule(random.intBetween(shortest, longest), () => {
      if (!cluster.isUp(victim)) cluster.restart(victim);
    });
  }
}
