import { pack } from "msgpackr";
import type { Entry, NodeId } from "../../src/raft/index.ts";
import { encodeCommand } from "../../src/kv/commands.ts";
import { sameEntry } from "./checkers.ts";
import type { SimCluster } from "./sim-cluster.ts";

/**
 * The log entry data of a client's write number `seq`: a real KV put, unique
 * per (client, seq), so that the checkers can tell any two commands apart.
 */
export function clientCommand(client: string, seq: number): Uint8Array {
  return encodeCommand({ op: "put", key: `${client}/k${seq % 4}`, value: pack(`${client}#${seq}`), client, seq });
}

export interface SimClientOptions {
  /** A client acts after a pause drawn from [min, max] virtual ms. */
  readonly pauseMsMin: number;
  readonly pauseMsMax: number;
  /** The share of actions that are ReadIndex reads rather than writes. */
  readonly readProbability: number;
  /** A write not committed this long after it was accepted is sent again, with the same seq. */
  readonly writeTimeoutMs: number;
}

interface PendingWrite {
  readonly entry: Entry;
  readonly deadlineMs: number;
}

/**
 * A client that writes unique commands and asks for linearizable reads at
 * whichever node it believes leads, following NOT_LEADER hints as a real
 * client would, and guessing at random when it has none. Like a real client
 * it waits for each write to commit before the next, and after a timeout
 * sends the same write (same seq) again: the load stays what a cluster can
 * carry, and retries reach the log as they do in production.
 */
export class SimClient {
  private leaderGuess: NodeId | null = null;
  private seq = 1;
  private pending: PendingWrite | null = null;
  private running = false;
  /** Writes seen committed at the index their leader gave them. */
  committed = 0;

  constructor(
    private readonly cluster: SimCluster,
    readonly name: string,
    private readonly options: SimClientOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleNext();
  }

  stop(): void {
    this.running = false;
  }

  private scheduleNext(): void {
    const random = this.cluster.random;
    this.cluster.schedule(random.intBetween(this.options.pauseMsMin, this.options.pauseMsMax), () => {
      if (!this.running) return;
      this.act();
      this.scheduleNext();
    });
  }

  private act(): void {
    const cluster = this.cluster;
    const target = this.leaderGuess ?? cluster.ids[cluster.random.intBetween(0, cluster.ids.length - 1)]!;
    if (!cluster.isUp(target)) {
      // A real client times out and tries elsewhere.
      this.leaderGuess = null;
      return;
    }
    if (cluster.random.next() < this.options.readProbability) {
      if (cluster.readIndex(target) === null) this.redirect(target);
      return;
    }
    if (this.pending !== null) {
      if (!this.writeSettled(this.pending)) return;
      this.pending = null;
    }
    const data = clientCommand(this.name, this.seq);
    const result = cluster.propose(target, data);
    if (result.ok) {
      this.pending = { entry: { index: result.index, term: result.term, type: "command", data }, deadlineMs: cluster.nowMs + this.options.writeTimeoutMs };
      this.leaderGuess = target;
      cluster.trace.note(cluster.nowMs, `client ${this.name} → node ${target}: write #${this.seq} at (${result.index},${result.term})`);
    } else {
      this.redirect(target);
    }
  }

  /** Whether the client is done waiting for `write`: it committed (next seq), was overwritten, or timed out (same seq again). */
  private writeSettled(write: PendingWrite): boolean {
    const committed = this.cluster.checker.committedEntry(write.entry.index);
    if (committed !== undefined) {
      if (sameEntry(committed, write.entry)) {
        this.committed++;
        this.seq++;
      }
      return true;
    }
    return this.cluster.nowMs >= write.deadlineMs;
  }

  private redirect(from: NodeId): void {
    const hint = this.cluster.status(from)?.leaderId ?? null;
    this.leaderGuess = hint === from ? null : hint;
  }
}
