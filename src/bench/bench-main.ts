/**
 * `npm run bench -- [--clients 1,8,32,128] [--seconds N] [--mix put|get|mixed|cas] [--keys N] [--value-size B] [--stale] [--config F] [--json FILE] [--vs-etcd] [--rounds N] [--warmup N]`
 *
 * Closed-loop clients against a zraft cluster, one step per concurrency
 * level: throughput, latency percentiles, errors by code, and each
 * process's CPU and peak memory; then every acknowledged write is read
 * back (docs: issue 14). With --vs-etcd, the same again against a local
 * five-member etcd when `etcd` is on PATH, and the two side by side;
 * with --rounds N, all of it N times and the medians side by side. Each
 * system gets --warmup seconds of unmeasured load first.
 *
 * Ctrl-C ends the running step there: it and the steps before it are
 * reported and every acknowledged write is read back, as at the end of a
 * full run; a second Ctrl-C quits at once.
 *
 * Exit codes: 0 when the run finished and lost nothing; 1 when a write was
 * lost or the run failed (the cluster's folder is kept); 2 on a bad
 * command line; 130 when Ctrl-C ended it early and nothing was lost.
 */
import { runTool } from "../cli/run-tool.ts";
import { benchUsage, parseBenchOptions } from "./bench-options.ts";
import { runBench } from "./run-bench.ts";

/** A start, a preload, the final reads, and per step its settling: generous, but a stuck run ends. */
const fixedBudgetMs = 180_000;
const perStepBudgetMs = 90_000;

runTool({
  name: "bench",
  usage: benchUsage,
  parse: parseBenchOptions,
  budgetMs: (options) =>
    options.rounds * (options.vsEtcd ? 2 : 1) * (fixedBudgetMs + options.warmupSeconds * 1000 + options.clients.length * (perStepBudgetMs + options.seconds * 1000)),
  run: runBench,
  endsEarly: "ending the step now; what was measured is reported and every acknowledged write read back",
});
