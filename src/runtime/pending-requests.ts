import type { LogIndex, Term } from "../raft/index.ts";
import type { Request } from "../protocol/client-protocol.ts";

/** A client request the server has accepted and not yet answered. */
export interface PendingRequest<Handle> {
  readonly handle: Handle;
  readonly request: Request;
  readonly deadlineMs: number;
}

/**
 * Requests waiting on the log or on a read confirmation, with no timer per
 * request: every request gets the same timeout, so insertion order is
 * deadline order and an expiry sweep stops at the first one still in time.
 */
export class PendingRequests<Handle> {
  /** Writes by the log index their entry was proposed at. */
  private readonly writes = new Map<LogIndex, { readonly term: Term; readonly pending: PendingRequest<Handle> }>();
  /** Reads by ReadIndex context, until the leader confirms them. */
  private readonly unconfirmedReads = new Map<number, PendingRequest<Handle>>();
  /** Confirmed reads waiting for the state machine to reach their index, in index order. */
  private confirmedReads: { readonly index: LogIndex; readonly pending: PendingRequest<Handle> }[] = [];

  constructor(private readonly sizeMax: number) {}

  size(): number {
    return this.writes.size + this.unconfirmedReads.size + this.confirmedReads.length;
  }

  isFull(): boolean {
    return this.size() >= this.sizeMax;
  }

  addWrite(index: LogIndex, term: Term, pending: PendingRequest<Handle>): void {
    this.writes.set(index, { term, pending });
  }

  /** The write proposed at `index`, and whether the entry applied there is the one it proposed. */
  takeWrite(index: LogIndex, appliedTerm: Term): { readonly pending: PendingRequest<Handle>; readonly replaced: boolean } | null {
    const write = this.writes.get(index);
    if (write === undefined) return null;
    this.writes.delete(index);
    return { pending: write.pending, replaced: write.term !== appliedTerm };
  }

  addRead(context: number, pending: PendingRequest<Handle>): void {
    this.unconfirmedReads.set(context, pending);
  }

  /** The leader confirmed read `context` at `index` (ReadIndex, §8). */
  confirmRead(context: number, index: LogIndex): void {
    const pending = this.unconfirmedReads.get(context);
    if (pending === undefined) return; // already expired
    this.unconfirmedReads.delete(context);
    this.confirmedReads.push({ index, pending });
  }

  /** Confirmed reads the state machine has caught up with. */
  takeServableReads(lastApplied: LogIndex): PendingRequest<Handle>[] {
    let count = 0;
    while (count < this.confirmedReads.length && this.confirmedReads[count]!.index <= lastApplied) count++;
    return this.confirmedReads.splice(0, count).map((read) => read.pending);
  }

  takeUnconfirmedRead(context: number): PendingRequest<Handle> | undefined {
    const pending = this.unconfirmedReads.get(context);
    this.unconfirmedReads.delete(context);
    return pending;
  }

  /** Every write still waiting for its entry to be applied. */
  takeWrites(): PendingRequest<Handle>[] {
    const taken = [...this.writes.values()].map((write) => write.pending);
    this.writes.clear();
    return taken;
  }

  takeAll(): PendingRequest<Handle>[] {
    const taken = [...this.takeWrites(), ...this.unconfirmedReads.values(), ...this.confirmedReads.map((read) => read.pending)];
    this.unconfirmedReads.clear();
    this.confirmedReads = [];
    return taken;
  }

  /** Requests past their deadline. */
  takeExpired(nowMs: number): PendingRequest<Handle>[] {
    const expired: PendingRequest<Handle>[] = [];
    for (const [index, write] of this.writes) {
      if (write.pending.deadlineMs > nowMs) break;
      expired.push(write.pending);
      this.writes.delete(index);
    }
    for (const [context, pending] of this.unconfirmedReads) {
      if (pending.deadlineMs > nowMs) break;
      expired.push(pending);
      this.unconfirmedReads.delete(context);
    }
    while (this.confirmedReads.length > 0 && this.confirmedReads[0]!.pending.deadlineMs <= nowMs) {
      expired.push(this.confirmedReads.shift()!.pending);
    }
    return expired;
  }
}
