/**
 * The chaos run's clients: each is one ZraftClient doing one operation at a
 * time on random keys, and every operation goes into the history with the
 * time it was called and the time its answer came.
 *
 * A client gives up quickly (a short request timeout and deadline) so that
 * an operation caught by a fault is recorded as unknown rather than waited
 * out; the ZraftClient retries a write with the same client and seq until
 * then (docs/protocol.md §8, §9), so "unknown" means it really gave up.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { KvOperation, KvOutput } from "../linearizability/index.ts";
import { ZraftError } from "../protocol/errors.ts";
import type { ZraftClient } from "../client/zraft-client.ts";
import type { HistoryRecorder, OpOutcome, OpRecord } from "./history.ts";
import type { SeededRandom } from "./seeded-random.ts";

/** Client timing: short, so that faults produce unknown outcomes instead of long waits. */
export const workloadClientTiming = { requestTimeoutMs: 500, deadlineMs: 3_000, backoffMsMax: 250 } as const;

/** A pause between two operations of one client, drawn from [0, this]: keeps the history (and the checker's work) in proportion. */
const thinkMsMax = 20;

/** The shares of the op mix: reads, puts, the rest compare-and-swaps. */
const getShare = 0.4;
const putShare = 0.3;

/** The keys of a run: `k0` … `k<n-1>`. */
export function workloadKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `k${i}`);
}

/** A value as the history holds it: our values are strings; anything else is shown as JSON so that it cannot match one. */
function asHistoryValue(value: unknown): string | null {
  if (value === null || value === undefined || typeof value === "string") return value ?? null;
  return `unexpected:${JSON.stringify(value)}`;
}

interface Performed {
  readonly outcome: OpOutcome;
  readonly output: KvOutput | null;
  readonly observed?: string | null;
  readonly error?: string;
}

/** Carries out `op` and says how it ended; never throws. */
async function perform(client: ZraftClient, op: KvOperation): Promise<Performed> {
  try {
    switch (op.kind) {
      case "get": {
        const reply = await client.get(op.key);
        const value = reply.found ? asHistoryValue(reply.value) : null;
        return { outcome: "ok", output: { kind: "get", value }, observed: value };
      }
      case "put":
        await client.put(op.key, op.value);
        return { outcome: "ok", output: { kind: "put" } };
      case "cas": {
        const reply = await client.cas(op.key, op.expect, op.value);
        return { outcome: "ok", output: { kind: "cas", swapped: reply.swapped }, observed: reply.swapped ? op.expect : asHistoryValue(reply.value) };
      }
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // BAD_REQUEST is the only definite refusal the client passes on; TIMEOUT, and anything else (a socket
    // failure), leaves the write's fate open.
    if (error instanceof ZraftError && error.code === "BAD_REQUEST") return { outcome: "refused", output: null, error: message };
    return { outcome: "unknown", output: null, error: message };
  }
}

/** Performs `op` as `process` of `client`, records it, and returns the record. */
export async function performAndRecord(
  recorder: HistoryRecorder,
  client: ZraftClient,
  op: KvOperation,
  who: { readonly process: number; readonly client: number; readonly final: boolean },
): Promise<OpRecord> {
  const callMs = performance.now();
  const done = await perform(client, op);
  const returnMs = performance.now();
  const record: OpRecord = {
    process: who.process,
    client: who.client,
    session: client.sessionId,
    // One operation at a time per ZraftClient, so its last seq is this write's.
    seq: op.kind === "get" ? null : client.lastSeq,
    op,
    callMs,
    returnMs,
    outcome: done.outcome,
    output: done.output,
    ...(done.observed === undefined ? {} : { observed: done.observed }),
    ...(done.error === undefined ? {} : { error: done.error }),
    final: who.final,
  };
  recorder.add(record);
  return record;
}

/** What the key holds right after a successful `op`, as far as its client can tell. */
function valueAfter(op: KvOperation, record: OpRecord): string | null {
  if (op.kind === "put") return op.value;
  if (op.kind === "cas" && record.output?.kind === "cas" && record.output.swapped) return op.value;
  return record.observed ?? null;
}

export interface WorkloadClientContext {
  readonly recorder: HistoryRecorder;
  readonly keys: readonly string[];
  /** True once no new operation should start. */
  readonly stopped: () => boolean;
}

/**
 * Workload client `index`: random ops until `stopped()`, then finishes the
 * one in flight. Values are unique in the run (`c<index>-<n>`), so that
 * every value read names the one write that wrote it.
 */
export async function runWorkloadClient(index: number, client: ZraftClient, random: SeededRandom, context: WorkloadClientContext): Promise<void> {
  let process = index;
  let count = 0;
  /** The last value this client saw on each key: what its cas expects. */
  const lastSeen = new Map<string, string | null>();
  while (!context.stopped()) {
    count += 1;
    const key = random.pick(context.keys);
    const value = `c${index}-${count}`;
    const roll = random.next();
    const op: KvOperation =
      roll < getShare ? { kind: "get", key } : roll < getShare + putShare ? { kind: "put", key, value } : { kind: "cas", key, expect: lastSeen.get(key) ?? null, value };
    const record = await performAndRecord(context.recorder, client, op, { process, client: index, final: false });
    if (record.outcome === "ok") lastSeen.set(key, valueAfter(op, record));
    if (record.outcome === "unknown" && op.kind !== "get") process = context.recorder.newProcess();
    await sleep(random.intBetween(0, thinkMsMax));
  }
}
