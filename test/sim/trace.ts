import { assertNever } from "../../src/base/assert.ts";
import { describeMessage, type LogIndex, type Message, type NodeId } from "../../src/raft/index.ts";

/** What became of a message: delivered, or lost and why. */
export type MessageFate = "delivered" | "dropped" | "cut by partition" | "receiver down" | "dropped by script";

/**
 * One traced event. Messages and commits are stored as data and formatted
 * only when the trace is printed: most runs pass and never print.
 */
export type TraceRecord =
  | { readonly kind: "message"; readonly atMs: number; readonly message: Message; readonly fate: MessageFate }
  | { readonly kind: "commit"; readonly atMs: number; readonly node: NodeId; readonly commitIndex: LogIndex }
  | { readonly kind: "note"; readonly atMs: number; readonly text: string };

export function describeTraceRecord(record: TraceRecord): string {
  const time = `t=${record.atMs}ms`.padEnd(11);
  switch (record.kind) {
    case "message":
      return `${time} ${describeMessage(record.message)}${record.fate === "delivered" ? "" : `  ✗ ${record.fate}`}`;
    case "commit":
      return `${time} node ${record.node} commitIndex=${record.commitIndex}`;
    case "note":
      return `${time} ${record.text}`;
    default:
      return assertNever(record, "trace record");
  }
}

/** A ring buffer that keeps the last `capacity` trace records. */
export class Trace {
  private readonly records: (TraceRecord | undefined)[];
  private total = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`trace capacity must be a positive integer, got ${capacity}`);
    this.records = new Array<TraceRecord | undefined>(capacity);
  }

  /** Records seen since the start, including those the ring has overwritten. */
  get recordedCount(): number {
    return this.total;
  }

  add(record: TraceRecord): void {
    this.records[this.total % this.capacity] = record;
    this.total++;
  }

  note(atMs: number, text: string): void {
    this.add({ kind: "note", atMs, text });
  }

  /** The last `count` records (at most what the ring holds), oldest first. */
  last(count: number = this.capacity): TraceRecord[] {
    const kept = Math.min(count, this.capacity, this.total);
    const records: TraceRecord[] = [];
    for (let n = this.total - kept; n < this.total; n++) records.push(this.records[n % this.capacity]!);
    return records;
  }

  /** The last `count` records (at most what the ring holds), oldest first, one line each. */
  tail(count: number = this.capacity): string[] {
    return this.last(count).map(describeTraceRecord);
  }
}
