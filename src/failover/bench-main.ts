/**
 * `npm run bench:election -- --timeout 150-300[,50-100,...] --rounds 100 [--svg FILE] [--json FILE]`
 *
 * Repeats, for each election timeout range, the experiment of the Raft
 * paper's §9.3 (Figure 16 of the extended version): kill -9 the leader,
 * measure the time until a new leader is known to a majority, restart the
 * killed server; prints each range's samples, summary and cumulative
 * distribution, and draws every range on one SVG chart.
 *
 * Exit codes: 0 when every round was measured; 1 when one could not be
 * (the cluster's folder is kept); 2 on a bad command line.
 */
import { runTool } from "../cli/run-tool.ts";
import { electionBenchUsage, parseElectionBenchOptions } from "./bench-options.ts";
import { runElectionBench } from "./run-bench.ts";

/** A round is a kill, an election and a restart: a few seconds. Beyond this per round plus a start, the run is stuck. */
const perRoundBudgetMs = 60_000;
const perRangeBudgetMs = 60_000;

runTool({
  name: "bench:election",
  usage: electionBenchUsage,
  parse: parseElectionBenchOptions,
  budgetMs: (options) => options.ranges.length * (perRangeBudgetMs + options.rounds * perRoundBudgetMs),
  run: async (options, say) => {
    await runElectionBench(options, say);
    return 0;
  },
});
