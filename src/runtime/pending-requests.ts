import type { LogIndex, Term } from "../raft/index.ts";

/** Someone waiting for a proposal or a read: called exactly once, with how it ended. */
export interface Waiter<Outcome> {
  readonly deadlineMs: number;
  readonly settle: (outcome: Outcome) => void;
}

/** A linearizable read waiting for its ReadIndex confirmation, then for the state machine to reach it. */
export interface PendingRead<Query, Outcome> extends Waiter<Outcome> {
  readonly query: Query;
}

/**
 * Proposals and reads waiting on the log or on a read confirmation, with no
 * timer per request: every request gets the same timeout, so insertion
 * order is deadline order and an expiry sweep stops at the first one still
 * in time.
 */
export class PendingRequests<WriteOutcome, Query, ReadOutcome> {
  /** Proposals by the log index their entry was proposed at. */
  private readonly writes = new Map<LogIndex, { readonly term: Term; readonly waiter: Waiter<WriteOutcome> }>();
  /** Reads by ReadIndex context, until the leader confirms them. */
  private readonly unconfirmedReads = new Map<number, PendingRead<Query, ReadOutcome>>();
  /** Confirmed reads waiting for the state machine to reach their index, in index order. */
  private confirmedReads: { readonly index: LogIndex; readonly read: PendingRead<Query, ReadOutcome> }[] = [];

  constructor(private readonly sizeMax: number) {}

  size(): number {
    return this.writes.size + this.unconfirmedReads.size + this.confirmedReads.length;
  }

  isFull(): boolean {
    return this.size() >= this.sizeMax;
  }

  /**
   * Records a proposal made at `index` in `term`. Returns the waiter of an
   * earlier proposal at that index, from an older term whose entry this
   * log has since lost: the caller settles it.
   */
  addWrite(index: LogIndex, term: Term, waiter: Waiter<WriteOutcome>): Waiter<WriteOutcome> | undefined {
    const displaced = this.writes.get(index);
    // Re-inserting moves the proposal to the end, keeping insertion order equal to deadline order.
    this.writes.delete(index);
    this.writes.set(index, { term, waiter });
    return displaced?.waiter;
  }

  /** The proposal made at `index`, and whether the entry applied there is the one it proposed. */
  takeWrite(index: LogIndex, appliedTerm: Term): { readonly waiter: Waiter<WriteOutcome>; readonly replaced: boolean } | null {
    const write = this.writes.get(index);
    if (write === undefined) return null;
    this.writes.delete(index);
    return { waiter: write.waiter, replaced: write.term !== appliedTerm };
  }

  addRead(context: number, read: PendingRead<Query, ReadOutcome>): void {
    this.unconfirmedReads.set(context, read);
  }

  /** The leader confirmed read `context` at `index` (ReadIndex, Raft paper §8). */
  confirmRead(context: number, index: LogIndex): void {
    const read = this.unconfirmedReads.get(context);
    if (read === undefined) return; // already expired
    this.unconfirmedReads.delete(context);
    this.confirmedReads.push({ index, read });
  }

  /** Confirmed reads the state machine has caught up with. */
  takeServableReads(lastApplied: LogIndex): PendingRead<Query, ReadOutcome>[] {
    let count = 0;
    while (count < this.confirmedReads.length && this.confirmedReads[count]!.index <= lastApplied) count++;
    return this.confirmedReads.splice(0, count).map((confirmed) => confirmed.read);
  }

  takeUnconfirmedRead(context: number): PendingRead<Query, ReadOutcome> | undefined {
    const read = this.unconfirmedReads.get(context);
    this.unconfirmedReads.delete(context);
    return read;
  }

  /** Every proposal still waiting for its entry to be applied. */
  takeWrites(): Waiter<WriteOutcome>[] {
    return this.takeWritesBefore(Number.POSITIVE_INFINITY);
  }

  /** The proposals made in terms before `term`. */
  takeWritesBefore(term: Term): Waiter<WriteOutcome>[] {
    const taken: Waiter<WriteOutcome>[] = [];
    for (const [index, write] of this.writes) {
      if (write.term >= term) continue;
      taken.push(write.waiter);
      this.writes.delete(index);
    }
    return taken;
  }

  /** Every read, confirmed or not. */
  takeReads(): PendingRead<Query, ReadOutcome>[] {
    const taken = [...this.unconfirmedReads.values(), ...this.confirmedReads.map((confirmed) => confirmed.read)];
    this.unconfirmedReads.clear();
    this.confirmedReads = [];
    return taken;
  }

  /** Proposals and reads past their deadline. */
  takeExpired(nowMs: number): { readonly writes: Waiter<WriteOutcome>[]; readonly reads: PendingRead<Query, ReadOutcome>[] } {
    const writes: Waiter<WriteOutcome>[] = [];
    const reads: PendingRead<Query, ReadOutcome>[] = [];
    for (const [index, write] of this.writes) {
      if (write.waiter.deadlineMs > nowMs) break;
      writes.push(write.waiter);
      this.writes.delete(index);
    }
    for (const [context, read] of this.unconfirmedReads) {
      if (read.deadlineMs > nowMs) break;
      reads.push(read);
      this.unconfirmedReads.delete(context);
    }
    while (this.confirmedReads.length > 0 && this.confirmedReads[0]!.read.deadlineMs <= nowMs) {
      reads.push(this.confirmedReads.shift()!.read);
    }
    return { writes, reads };
  }
}
