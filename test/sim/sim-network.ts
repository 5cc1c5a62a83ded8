import type { Message, NodeId, Random } from "../../src/raft/index.ts";
import type { MessageFate } from "./trace.ts";

/** How unreliable the simulated network is. Reordering falls out of random delays. */
export interface NetworkFaults {
  /** Probability that a message is lost, in [0, 1]. */
  readonly dropRate: number;
  /** Probability that a message that is not lost arrives twice, in [0, 1]. */
  readonly duplicateRate: number;
  /** Each copy of a message arrives after a delay drawn uniformly from [min, max] ms. */
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  /**
   * The second copy of a duplicated message arrives within [delayMsMin, this]
   * instead (delayMsMax when absent): as a copy that crossed a slower second
   * forwarder does, long after the sender and receiver moved on.
   */
  readonly lateCopyMsMax?: number;
}

/** A network that loses nothing and delivers within a few milliseconds. */
export const reliableNetwork: NetworkFaults = Object.freeze({ dropRate: 0, duplicateRate: 0, delayMsMin: 1, delayMsMax: 5 });

export function validateNetworkFaults(faults: NetworkFaults): void {
  const probability = (name: string, value: number): void => {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`network faults: ${name} must be in [0, 1], got ${value}`);
  };
  probability("dropRate", faults.dropRate);
  probability("duplicateRate", faults.duplicateRate);
  if (!Number.isInteger(faults.delayMsMin) || faults.delayMsMin < 0) {
    throw new RangeError(`network faults: delayMsMin must be a non-negative integer, got ${faults.delayMsMin}`);
  }
  if (!Number.isInteger(faults.delayMsMax) || faults.delayMsMax < faults.delayMsMin) {
    throw new RangeError(`network faults: delayMsMax must be an integer >= delayMsMin, got ${faults.delayMsMax}`);
  }
  if (faults.lateCopyMsMax !== undefined && (!Number.isInteger(faults.lateCopyMsMax) || faults.lateCopyMsMax < faults.delayMsMax)) {
    throw new RangeError(`network faults: lateCopyMsMax must be an integer >= delayMsMax, got ${faults.lateCopyMsMax}`);
  }
}

/** Returns true for a message that a scenario wants lost. */
export type MessageFilter = (message: Message) => boolean;

/** Where the network hands a message that will arrive, and where it reports one that will not. */
export interface NetworkSink {
  deliverAfter(delayMs: number, message: Message): void;
  lost(message: Message, fate: Exclude<MessageFate, "delivered" | "receiver down">): void;
}

/** Counts of what the network did, for scenarios and benchmarks. */
export interface NetworkStats {
  sent: number;
  dropped: number;
  duplicated: number;
  cut: number;
}

const restGroup = -1;

/**
 * The simulated network: every decision (loss, duplication, delay) is drawn
 * from the simulator's seeded Random, in send order. Partitions split the
 * nodes into groups that cannot talk to each other; a partition cuts both new
 * messages and those already in flight.
 */
export class SimNetwork {
  private faultsNow: NetworkFaults = reliableNetwork;
  private readonly groupOf = new Map<NodeId, number>();
  private readonly filters = new Set<MessageFilter>();
  private readonly observers = new Set<(message: Message) => void>();
  readonly stats: NetworkStats = { sent: 0, dropped: 0, duplicated: 0, cut: 0 };

  constructor(
    private readonly random: Random,
    private readonly sink: NetworkSink,
  ) {}

  get faults(): NetworkFaults {
    return this.faultsNow;
  }

  setFaults(faults: NetworkFaults): void {
    validateNetworkFaults(faults);
    this.faultsNow = faults;
  }

  /**
   * Splits the network: each listed group can only talk within itself, and
   * every node not listed belongs to one more group, "the rest".
   */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.groupOf.clear();
    groups.forEach((group, number) => {
      for (const id of group) {
        if (this.groupOf.has(id)) throw new Error(`partition: node ${id} is in two groups`);
        this.groupOf.set(id, number);
      }
    });
  }

  heal(): void {
    this.groupOf.clear();
  }

  get isPartitioned(): boolean {
    return this.groupOf.size > 0;
  }

  canReach(from: NodeId, to: NodeId): boolean {
    return (this.groupOf.get(from) ?? restGroup) === (this.groupOf.get(to) ?? restGroup);
  }

  /** Loses every message for which `filter` returns true, until the returned function is called. */
  dropWhen(filter: MessageFilter): () => void {
    this.filters.add(filter);
    return () => {
      this.filters.delete(filter);
    };
  }

  /** Calls `observer` with every message sent, before any fault applies. Returns the unsubscriber. */
  observe(observer: (message: Message) => void): () => void {
    this.observers.add(observer);
    return () => {
      this.observers.delete(observer);
    };
  }

  send(message: Message): void {
    this.stats.sent++;
    // Nodes share message and entry objects here, where a real network would copy them: freezing makes a core that
    // mutates what it sent, or what it received, throw instead of silently changing another node's state.
    Object.freeze(message);
    if (message.type === "AppendEntries") {
      Object.freeze(message.entries);
      for (const entry of message.entries) Object.freeze(entry);
    }
    for (const observer of this.observers) observer(message);
    if (!this.canReach(message.from, message.to)) {
      this.stats.cut++;
      this.sink.lost(message, "cut by partition");
      return;
    }
    for (const filter of this.filters) {
      if (filter(message)) {
        this.sink.lost(message, "dropped by script");
        return;
      }
    }
    const faults = this.faultsNow;
    if (faults.dropRate > 0 && this.random.next() < faults.dropRate) {
      this.stats.dropped++;
      this.sink.lost(message, "dropped");
      return;
    }
    this.sink.deliverAfter(this.random.intBetween(faults.delayMsMin, faults.delayMsMax), message);
    if (faults.duplicateRate > 0 && this.random.next() < faults.duplicateRate) {
      this.stats.duplicated++;
      this.sink.deliverAfter(this.random.intBetween(faults.delayMsMin, faults.lateCopyMsMax ?? faults.delayMsMax), message);
    }
  }

  /** Decides at arrival time whether a message in flight still gets through the current partition. */
  arrives(message: Message): boolean {
    if (this.canReach(message.from, message.to)) return true;
    this.stats.cut++;
    return false;
  }
}
