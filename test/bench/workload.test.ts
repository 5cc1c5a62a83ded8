/**
 * One step of the bench (src/bench/workload.ts) against a stand-in system:
 * a failure of the generator's own process (out of sockets) ends the step
 * at once instead of being counted and tried again, as 83,908 of them were
 * in one 1000-client step that measured its own spinning; a system's answer
 * is counted by its code; what the library did behind the answers is
 * reported as the step's growth of it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KvSystem, KvTarget } from "../../src/bench/kv-target.ts";
import { ValueMaker, runStep } from "../../src/bench/workload.ts";
import { WriteLedger } from "../../src/bench/write-ledger.ts";

class LocalFailure extends Error {}
class Refused extends Error {}

/** A system whose puts fail with `failure`, or succeed when it is undefined. */
function standInSystem(failure: () => Error | undefined): KvSystem {
  return {
    name: "stand-in",
    description: "a stand-in",
    connect(): KvTarget {
      const hidden: Record<string, number> = { "retry after TIMEOUT": 1 };
      return {
        hidden,
        put: async () => {
          await new Promise((resolve) => setImmediate(resolve));
          hidden["retry after TIMEOUT"] = (hidden["retry after TIMEOUT"] ?? 0) + 1;
          const error = failure();
          if (error !== undefined) throw error;
        },
        get: async () => null,
        cas: async () => false,
        close: () => undefined,
      };
    },
    processes: async () => [],
    settle: async () => undefined,
    errorCode(error: unknown): string {
      if (error instanceof LocalFailure) throw error;
      return error instanceof Refused ? "REFUSED" : "unknown";
    },
    cleanup: async () => undefined,
  };
}

const shape = { mix: "put", keys: 4, valueSize: 16, stale: false } as const;

test("the generator's own failure ends the step at once", async () => {
  const startedMs = performance.now();
  await assert.rejects(
    runStep(standInSystem(() => new LocalFailure("out of sockets")), new WriteLedger(), new ValueMaker(16), shape, { clients: 2, seconds: 30 }, { ops: 0, errors: 0 }),
    LocalFailure,
  );
  assert.ok(performance.now() - startedMs < 20_000, "not after the step's 30 s");
});

test("the system's refusals are counted by code, and the library's retries by their growth over the step", async () => {
  let calls = 0;
  const step = await runStep(
    standInSystem(() => (++calls % 2 === 0 ? new Refused() : undefined)),
    new WriteLedger(),
    new ValueMaker(16),
    shape,
    { clients: 2, seconds: 1 },
    { ops: 0, errors: 0 },
  );
  assert.ok(step.ops > 0 && (step.errors.REFUSED ?? 0) > 0, JSON.stringify(step));
  assert.equal(step.hidden["retry after TIMEOUT"], step.ops + (step.errors.REFUSED ?? 0), "one retry per operation in the step, none from before it");
});
