/**
 * Random histories that are linearizable by construction, for the
 * checker's scale tests: clients run operations with random latencies and
 * overlaps, each operation takes effect at one random instant between its
 * call and its return, and a real register applied in the order of those
 * instants decides every output. An operation of unknown outcome takes
 * effect at some instant after its call (possibly after its client gave up
 * on it) or never, as a timed-out request may.
 *
 * Seeded, so that a failure can be replayed.
 */
import type { HistoryEntry, KvOperation, KvOutput } from "../../src/linearizability/index.ts";

export interface RandomHistoryOptions {
  readonly seed: number;
  readonly processes: number;
  readonly operationsPerProcess: number;
  readonly keys: number;
  /** The share of operations whose outcome is unknown. */
  readonly unknownRate: number;
}

/** A small seeded generator (xorshift32): enough spread for test data, and reproducible. */
export function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

interface Planned {
  readonly process: number;
  readonly key: string;
  readonly kind: KvOperation["kind"];
  readonly value: string;
  readonly callMs: number;
  readonly returnMs: number | null;
  /** When it takes effect on the register; null: never. */
  readonly effectMs: number | null;
}

export function randomHistory(options: RandomHistoryOptions): HistoryEntry[] {
  const next = random(options.seed);
  const below = (n: number): number => Math.floor(next() * n);

  const planned: Planned[] = [];
  for (let process = 0; process < options.processes; process++) {
    let clockMs = below(5);
    for (let n = 0; n < options.operationsPerProcess; n++) {
      const callMs = clockMs + below(3);
      // Mostly quick, sometimes slow (an election, a partition healing).
      const latencyMs = next() < 0.03 ? 20 + below(200) : below(12);
      const kindDraw = next();
      const kind = kindDraw < 0.35 ? "put" : kindDraw < 0.75 ? "get" : "cas";
      const base = { process, key: `key${below(options.keys)}`, kind, value: `p${process}-${n}`, callMs } as const;
      if (next() < options.unknownRate) {
        // The client times out and moves on; the request may still land later.
        const timeoutMs = 30;
        planned.push({ ...base, returnMs: null, effectMs: next() < 0.5 ? null : callMs + next() * 300 });
        clockMs = callMs + timeoutMs;
      } else {
        const returnMs = callMs + latencyMs;
        planned.push({ ...base, returnMs, effectMs: callMs + next() * latencyMs });
        clockMs = returnMs;
      }
    }
  }

  // Run the register in the order of the effects, choosing each cas's
  // expected value then: mostly the current one (a swap), else an older one.
  const register = new Map<string, string | null>();
  const written = new Map<string, string[]>();
  const record = (key: string, value: string): void => {
    const values = written.get(key);
    if (values === undefined) written.set(key, [value]);
    else values.push(value);
  };
  const expects = new Map<Planned, string | null>();
  const outputs = new Map<Planned, KvOutput>();
  const older = (key: string): string | null => {
    const values = written.get(key) ?? [];
    return values.length === 0 || next() < 0.2 ? null : (values[below(values.length)] as string);
  };
  const effective = planned.filter((op) => op.effectMs !== null).sort((a, b) => (a.effectMs as number) - (b.effectMs as number));
  for (const op of effective) {
    const current = register.get(op.key) ?? null;
    switch (op.kind) {
      case "put":
        register.set(op.key, op.value);
        record(op.key, op.value);
        outputs.set(op, { kind: "put" });
        break;
      case "get":
        outputs.set(op, { kind: "get", value: current });
        break;
      case "cas": {
        const expect = next() < 0.6 ? current : older(op.key);
        expects.set(op, expect);
        const swapped = expect === current;
        if (swapped) {
          register.set(op.key, op.value);
          record(op.key, op.value);
        }
        outputs.set(op, { kind: "cas", swapped });
        break;
      }
    }
  }

  return planned.map((op): HistoryEntry => {
    const kvOp: KvOperation =
      op.kind === "put"
        ? { kind: "put", key: op.key, value: op.value }
        : op.kind === "get"
          ? { kind: "get", key: op.key }
          : { kind: "cas", key: op.key, expect: expects.has(op) ? (expects.get(op) as string | null) : older(op.key), value: op.value };
    const output = outputs.get(op);
    return {
      process: op.process,
      op: kvOp,
      callMs: op.callMs,
      result: op.returnMs === null || output === undefined ? null : { returnMs: op.returnMs, output },
    };
  });
}
