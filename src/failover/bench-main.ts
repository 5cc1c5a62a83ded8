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
import { reportCommandLineError } from "../cli/args.ts";
import { electionBenchUsage, parseElectionBenchOptions, type ElectionBenchOptions } from "./bench-options.ts";
import { runElectionBench } from "./run-bench.ts";

/** A round is a kill, an election and a restart: a few seconds. Beyond this per round plus a start, the run is stuck. */
const perRoundBudgetMs = 60_000;
const perRangeBudgetMs = 60_000;

async function main(argv: readonly string[]): Promise<number> {
  let options: ElectionBenchOptions | "help";
  try {
    options = parseElectionBenchOptions(argv);
  } catch (error) {
    const exitCode = reportCommandLineError("bench:election", error, electionBenchUsage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  if (options === "help") {
    process.stdout.write(`${electionBenchUsage}\n`);
    return 0;
  }
  const budgetMs = options.ranges.length * (perRangeBudgetMs + options.rounds * perRoundBudgetMs);
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:election: the run took more than ${budgetMs / 1000} s; stopping every process\n`);
    process.exit(1);
  }, budgetMs);
  watchdog.unref();
  try {
    await runElectionBench(options, (line) => void process.stdout.write(`${line}\n`));
    return 0;
  } finally {
    clearTimeout(watchdog);
  }
}

// Ctrl-C or a kill: exit through process.exit, so that the exit hook of src/local-cluster kills the cluster's processes.
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:election: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
