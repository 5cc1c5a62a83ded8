/**
 * `npm run demo:failover -- [--rounds N] [--mode kill|pause|step-down|transfer] [--json FILE] [--config F] [--timeout LOW-HIGH]`
 *
 * Shows what a leader failure costs: writers keep writing while, each
 * round, the leader is killed, paused, asked to step down or to transfer
 * leadership; the timeline of each round (first server campaigning, new
 * leader, first write acknowledged again), then a summary of election time
 * and unavailability and a histogram. Every acknowledged write is read
 * back after each round (Raft's guarantee: Leader Completeness, §5.4).
 *
 * Exit codes: 0 when nothing was lost and every round completed; 1
 * otherwise; 2 on a bad command line.
 */
import { runTool } from "../cli/run-tool.ts";
import { failoverUsage, parseFailoverOptions } from "./failover-options.ts";
import { runDemo } from "./run-demo.ts";

/** Per round, beyond which the run is stuck: restarts and catch-up included, a round takes a few seconds. */
const perRoundBudgetMs = 90_000;
const startBudgetMs = 120_000;

runTool({
  name: "demo:failover",
  usage: failoverUsage,
  parse: parseFailoverOptions,
  budgetMs: (options) => startBudgetMs + options.rounds * perRoundBudgetMs,
  run: runDemo,
});
