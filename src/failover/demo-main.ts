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
import { reportCommandLineError } from "../cli/args.ts";
import { failoverUsage, parseFailoverOptions, type FailoverOptions } from "./failover-options.ts";
import { runDemo } from "./run-demo.ts";

/** Per round, beyond which the run is stuck: restarts and catch-up included, a round takes a few seconds. */
const perRoundBudgetMs = 90_000;
const startBudgetMs = 120_000;

async function main(argv: readonly string[]): Promise<number> {
  let options: FailoverOptions | "help";
  try {
    options = parseFailoverOptions(argv);
  } catch (error) {
    const exitCode = reportCommandLineError("demo:failover", error, failoverUsage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  if (options === "help") {
    process.stdout.write(`${failoverUsage}\n`);
    return 0;
  }
  const budgetMs = startBudgetMs + options.rounds * perRoundBudgetMs;
  const watchdog = setTimeout(() => {
    process.stderr.write(`demo:failover: the run took more than ${budgetMs / 1000} s; stopping every process\n`);
    process.exit(1);
  }, budgetMs);
  watchdog.unref();
  try {
    return await runDemo(options, (line) => void process.stdout.write(`${line}\n`));
  } finally {
    clearTimeout(watchdog);
  }
}

// Ctrl-C or a kill: exit through process.exit, so that the exit hooks kill the cluster's processes and continue a paused server.
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo:failover: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
