/**
 * What the chaos run records of every operation, and the history the
 * linearizability checker is given.
 *
 * The record keeps more than the checker needs, for the anomaly counts
 * (anomalies.ts) and for a person reading a failed run: the client's session
 * and seq (docs/protocol.md §8) and what a cas saw.
 *
 * Processes, in the checker's sense, perform one operation at a time. A
 * write whose outcome is unknown may still take effect at any later time,
 * so its process never completes it: the client that issued it goes on
 * under a new process number, as a crashed process would be replaced.
 */
import type { HistoryEntry, KvOperation, KvOutput } from "../linearizability/index.ts";

/**
 * ok: the cluster answered (a cas that did not swap included);
 * unknown: TIMEOUT or no answer, so a write may or may not have happened;
 * refused: a definite refusal (BAD_REQUEST), which changed nothing.
 */
export type OpOutcome = "ok" | "unknown" | "refused";

export interface OpRecord {
  /** The checker's process. */
  readonly process: number;
  /** The workload client that issued it (0 …), or -1 for the final reads. */
  readonly client: number;
  /** The ZraftClient's session id and the seq it gave a write (docs/protocol.md §8); seq is null for reads. */
  readonly session: string;
  readonly seq: number | null;
  readonly op: KvOperation;
  readonly callMs: number;
  /** When the answer (or the giving up) came. */
  readonly returnMs: number;
  readonly outcome: OpOutcome;
  /** For `ok` only. */
  readonly output: KvOutput | null;
  /** What the op saw on the key when it took effect: a get's value, a cas's current value (null: absent); undefined when nothing was seen. */
  readonly observed?: string | null;
  /** The error's message, for unknown and refused. */
  readonly error?: string;
  /** One of the reads after the run, when everything is healed. */
  readonly final: boolean;
}

/** Whether an operation can change the key: puts always, cas when it swaps. */
export function isWrite(op: KvOperation): boolean {
  return op.kind !== "get";
}

/**
 * The checker's history: every `ok` operation with its output, every
 * write whose outcome is unknown left open (result null). Refused
 * operations are left out (they changed nothing), and so are reads whose
 * outcome is unknown: a read that returned nothing constrains nothing, and
 * an open read would only widen the checker's search.
 */
export function checkerHistory(records: readonly OpRecord[]): HistoryEntry[] {
  const history: HistoryEntry[] = [];
  for (const record of records) {
    if (record.outcome === "ok" && record.output !== null) {
      history.push({ process: record.process, op: record.op, callMs: record.callMs, result: { returnMs: record.returnMs, output: record.output } });
    } else if (record.outcome === "unknown" && isWrite(record.op)) {
      history.push({ process: record.process, op: record.op, callMs: record.callMs, result: null });
    }
  }
  return history;
}

/** Hands out process numbers and collects records, in the order operations complete. */
export class HistoryRecorder {
  readonly #records: OpRecord[] = [];
  #nextProcess: number;

  /** Processes 0 … firstFreeProcess-1 are the workload clients' first ones. */
  constructor(firstFreeProcess: number) {
    this.#nextProcess = firstFreeProcess;
  }

  newProcess(): number {
    return this.#nextProcess++;
  }

  add(record: OpRecord): void {
    this.#records.push(record);
  }

  get records(): readonly OpRecord[] {
    return this.#records;
  }
}
