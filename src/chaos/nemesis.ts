/**
 * The nemesis: while the clients run, it injects one fault at a time,
 * cycling through the chosen kinds in order, holds each a few seconds and
 * heals it before the next. Faults start on a fixed beat (one per cycle),
 * so that a slow heal (a forwarder that takes a while to start) delays the
 * next fault a little without lowering the count of a short run.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { FaultKind } from "./chaos-options.ts";
import { injectFault, type FaultContext } from "./faults.ts";

/** One fault as it happened, in the history's clock (performance.now()). */
export interface FaultEvent {
  readonly number: number;
  readonly kind: FaultKind;
  readonly description: string;
  readonly startMs: number;
  /** Whether it was put in force (a failed injection is reported, not counted). */
  readonly injected: boolean;
  /** When the heal finished; null when it failed (the final heal takes over). */
  readonly healedMs: number | null;
  /** Why the fault could not be injected or healed, if it could not. */
  readonly problem?: string;
}

export interface NemesisPlan {
  readonly kinds: readonly FaultKind[];
  /** performance.now() at which the run started, for the time on each line. */
  readonly runStartMs: number;
  /** performance.now() at which the run's clients stop: the last fault is healed by then. */
  readonly endMs: number;
  /** Called with one line per fault, when it is injected. */
  readonly report: (line: string) => void;
}

/** Quiet time before the first fault, so that the clients have found the leader. */
const firstFaultAfterMs = 500;
/** The beat: long enough for a fault and its recovery, short enough that a 20 s run sees every kind. */
const cycleMsMin = 2_500;
const cycleMsMax = 6_000;
/** The share of a cycle a fault is held, drawn from this range; the rest lets the cluster recover. */
const holdShare = [0.45, 0.6] as const;

/** The beat for a run of `runMs` with `kinds` fault kinds: every kind gets its turn with a cycle to spare. */
export function nemesisCycleMs(runMs: number, kinds: number): number {
  return Math.min(cycleMsMax, Math.max(cycleMsMin, Math.floor(runMs / (kinds + 1))));
}

/** Runs faults until `plan.endMs`; resolves once the last one is healed, with every fault injected. */
export async function runNemesis(context: FaultContext, plan: NemesisPlan): Promise<FaultEvent[]> {
  const events: FaultEvent[] = [];
  if (plan.kinds.length === 0) return events;
  const startMs = performance.now() + firstFaultAfterMs;
  const cycleMs = nemesisCycleMs(plan.endMs - startMs, plan.kinds.length);
  for (let number = 1; ; number++) {
    const beatMs = Math.max(startMs + (number - 1) * cycleMs, performance.now());
    const holdMs = Math.round(cycleMs * (holdShare[0] + context.random.next() * (holdShare[1] - holdShare[0])));
    if (beatMs + holdMs > plan.endMs) break;
    await sleep(beatMs - performance.now());
    const kind = plan.kinds[(number - 1) % plan.kinds.length] as FaultKind;
    events.push(await oneFault(number, kind, holdMs, context, plan));
  }
  return events;
}

async function oneFault(number: number, kind: FaultKind, holdMs: number, context: FaultContext, plan: NemesisPlan): Promise<FaultEvent> {
  const startMs = performance.now();
  const at = `${((startMs - plan.runStartMs) / 1000).toFixed(1).padStart(5)} s`;
  let fault;
  try {
    fault = await injectFault(kind, context);
  } catch (error) {
    const problem = `could not inject ${kind}: ${(error as Error).message}`;
    plan.report(`${at}  fault ${number}: ${problem}`);
    return { number, kind, description: kind, startMs, injected: false, healedMs: null, problem };
  }
  plan.report(`${at}  fault ${number}: ${fault.description} for ${(holdMs / 1000).toFixed(1)} s`);
  await sleep(Math.max(0, holdMs - (performance.now() - startMs)));
  try {
    await fault.heal();
    return { number, kind, description: fault.description, startMs, injected: true, healedMs: performance.now() };
  } catch (error) {
    // Not a line of its own (one line per fault): the final heal retries, and the problem is kept in the history file.
    return { number, kind, description: fault.description, startMs, injected: true, healedMs: null, problem: `could not heal: ${(error as Error).message}` };
  }
}
