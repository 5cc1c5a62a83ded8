import type { NodeId } from "../../src/raft/index.ts";
import type { CrashPoint, SimCluster } from "./sim-cluster.ts";
import type { SwarmOptions } from "./swarm.ts";

/**
 * The chance that a server reaching each crash point crashes there. A leader
 * reaches "before-save" with most of its Readys, so a small chance is
 * enough; the snapshot points are rare, and the crash is the point of them.
 */
const crashChance: Readonly<Record<CrashPoint, number>> = {
  "before-save": 0.02,
  "after-install-save": 0.25,
  "after-snapshot-save": 0.05,
};

/** The chance that one InstallSnapshot chunk that is not the last crashes its receiver or its sender while it travels. */
const crashMidTransferChance = 0.2;

/**
 * Partitions, crashes and the controller's operations (forced campaigns,
 * step-downs, leadership transfers) at the rates a seed drew, every choice
 * from the cluster's seeded Random. Half the partitions cut the current leader off
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
    if (this.options.partitions === "figure8") this.dance({ step: "cut-a-leader-with-uncommitted-entries" }, this.cluster.nowMs);
    else if (this.options.partitionEveryMs !== null) this.schedulePartition(this.options.partitionEveryMs);
    if (this.options.crashEveryMs !== null) {
      this.scheduleCrash(this.options.crashEveryMs);
      // Now and then a leader dies between sending entries and saving them (dissertation §10.2.1), and a server
      // between storing a snapshot and using it (ch. 5).
      this.cluster.crashAt = (id, point) => {
        if (!this.running || this.cluster.random.next() >= crashChance[point]) return false;
        this.cluster.trace.note(this.cluster.nowMs, `node ${id} crashes at ${point}`);
        this.scheduleRestart(id);
        return true;
      };
      this.cluster.network.observe((message) => {
        if (message.type === "InstallSnapshot" && !message.last) this.maybeCrashMidTransfer(message.from, message.to);
      });
    }
    if (this.options.controllerEveryMs !== null) this.scheduleControl(this.options.controllerEveryMs);
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

  /**
   * One step of the Figure 8 dance (§5.4.2), checked every millisecond of
   * virtual time so that a new leader is cut off before its first
   * AppendEntries arrive. A step that waits longer than a few election
   * timeouts gives up and starts over.
   */
  private dance(step: DanceStep, sinceMs: number): void {
    const { cluster } = this;
    cluster.schedule(1, () => {
      if (!this.running) return;
      const leader = cluster.leader();
      const status = leader === null ? null : cluster.status(leader);
      const cut = (id: NodeId, why: string): void => {
        cluster.network.partition([[id]]);
        cluster.trace.note(cluster.nowMs, `figure 8 dance: cut off ${id} (${why})`);
      };
      let next: DanceStep | null = null;
      switch (step.step) {
        case "cut-a-leader-with-uncommitted-entries":
          if (leader !== null && status !== null && status.lastLogIndex > status.commitIndex) {
            cut(leader, "a leader with uncommitted entries");
            next = { step: "cut-its-successor", old: leader };
          }
          break;
        case "cut-its-successor":
          if (leader !== null && leader !== step.old) {
            cut(leader, `leader ${step.old}'s successor, before its first entries spread`);
            next = { step: "await-the-old-leader-back-in-office", old: step.old };
          }
          break;
        case "await-the-old-leader-back-in-office":
          if (leader === step.old && status !== null) next = { step: "cut-the-old-leader-when-it-commits", old: step.old, commitIndex: status.commitIndex };
          break;
        case "cut-the-old-leader-when-it-commits":
          // A correct leader commits its own new entry here, carrying the old ones with it; a broken one may commit an
          // old entry alone, and its successor, back in, would then overwrite it.
          if (leader !== step.old || (status !== null && status.commitIndex > step.commitIndex)) {
            if (leader === step.old) cut(step.old, "the old leader, as it commits");
            next = { step: "cut-a-leader-with-uncommitted-entries" };
          }
          break;
      }
      const patienceMs = 4 * cluster.settings.electionTimeoutMsMax;
      if (next === null && cluster.nowMs - sinceMs > patienceMs) {
        cluster.network.heal();
        cluster.trace.note(cluster.nowMs, "figure 8 dance: healed, starting over");
        next = { step: "cut-a-leader-with-uncommitted-entries" };
      }
      this.dance(next ?? step, next === null ? sinceMs : cluster.nowMs);
    });
  }

  private scheduleCrash(everyMs: number): void {
    this.cluster.schedule(this.pauseMs(everyMs), () => {
      if (!this.running) return;
      this.crashOne();
      this.scheduleCrash(everyMs);
    });
  }

  private scheduleControl(everyMs: number): void {
    this.cluster.schedule(this.pauseMs(everyMs), () => {
      if (!this.running) return;
      this.controlOne();
      this.scheduleControl(everyMs);
    });
  }

  /** One of the controller's operations, as the runtime would pass it on (docs/architecture.md §2). */
  private controlOne(): void {
    const { cluster } = this;
    const random = cluster.random;
    const up = cluster.ids.filter((id) => cluster.isUp(id));
    if (up.length === 0) return;
    const leader = cluster.leader();
    const choice = random.next();
    if (choice < 0.3 || leader === null) {
      const id = up[random.intBetween(0, up.length - 1)]!;
      const done = cluster.withNode(id, (node) => node.campaign());
      cluster.trace.note(cluster.nowMs, `controller: campaign at node ${id}${done ? "" : " (refused: it leads)"}`);
    } else if (choice < 0.55) {
      cluster.withNode(leader, (node) => node.stepDown());
      cluster.trace.note(cluster.nowMs, `controller: step-down at node ${leader}`);
    } else {
      // Any server, the leader itself and downed or cut-off ones included: refusals and aborted transfers are exercised too.
      const target = cluster.ids[random.intBetween(0, cluster.ids.length - 1)]!;
      const result = cluster.withNode(leader, (node) => node.transferLeadership(target));
      cluster.trace.note(cluster.nowMs, `controller: transfer from node ${leader} to node ${target}${result.ok ? "" : ` refused: ${result.reason}`}`);
    }
  }

  /**
   * Dissertation §5.1: a transfer cut by a crash of either side must resume
   * (the follower asks for the chunk it wants) or start over (a new leader);
   * a crash of a random server rarely lands in one, so chunks in flight draw
   * crashes of their own. The follower more often: it is the one that keeps
   * a half-gathered image.
   */
  private maybeCrashMidTransfer(leader: NodeId, follower: NodeId): void {
    const { cluster } = this;
    const random = cluster.random;
    if (!this.running || random.next() >= crashMidTransferChance) return;
    const victim = random.next() < 0.7 ? follower : leader;
    cluster.schedule(random.intBetween(0, cluster.network.faults.delayMsMax), () => {
      if (!this.running || !cluster.isUp(victim) || cluster.ids.filter((id) => cluster.isUp(id)).length <= 1) return;
      cluster.trace.note(cluster.nowMs, `node ${victim} crashes in the middle of a snapshot transfer from node ${leader} to node ${follower}`);
      cluster.crash(victim);
      this.scheduleRestart(victim);
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
    this.scheduleRestart(victim);
  }

  private scheduleRestart(id: NodeId): void {
    const { cluster } = this;
    const [shortest, longest] = this.options.downtimeMs;
    cluster.schedule(cluster.random.intBetween(shortest, longest), () => {
      if (!cluster.isUp(id)) cluster.restart(id);
    });
  }
}

type DanceStep =
  | { readonly step: "cut-a-leader-with-uncommitted-entries" }
  | { readonly step: "cut-its-successor"; readonly old: NodeId }
  | { readonly step: "await-the-old-leader-back-in-office"; readonly old: NodeId }
  | { readonly step: "cut-the-old-leader-when-it-commits"; readonly old: NodeId; readonly commitIndex: number };
