/**
 * `npm run chaos -- [--seconds 60] [--clients 10] [--keys 10] [--faults LIST] [--seed N] [--keep DIR]`
 *
 * Runs a fresh 5-server cluster under concurrent clients and a nemesis
 * (kills, pauses, partitions, whole-cluster restarts, forwarder crashes),
 * heals it, reads every key, and checks the recorded history for
 * linearizability (docs/protocol.md §8). Prints a line per fault, then one
 * summary line:
 *
 *   ops=<n> ok=<n> unknown=<n> faults=<n> linearizable=<yes|no|unknown> lost=<n> duplicated=<n> checker_ms=<n>
 *
 * Exit codes: 0 when linearizable=yes, lost=0 and duplicated=0; 1 when not,
 * or when the run itself could not be carried out (the evidence is kept and
 * its folder printed); 2 on a bad command line.
 */
import { reportCommandLineError } from "../cli/args.ts";
import { chaosUsage, parseChaosOptions, type ChaosOptions } from "./chaos-options.ts";
import { summaryLine } from "./report.ts";
import { runChaos } from "./run-chaos.ts";

/**
 * Beyond the run itself: cluster start, recovery, final reads and the
 * checker. A run that overruns it is stuck; it is stopped, and the exit
 * hook of src/local-cluster kills every process it started.
 */
const overrunAllowanceMs = 300_000;

async function main(argv: readonly string[]): Promise<number> {
  let options: ChaosOptions | "help";
  try {
    options = parseChaosOptions(argv);
  } catch (error) {
    const exitCode = reportCommandLineError("chaos", error, chaosUsage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  if (options === "help") {
    process.stdout.write(`${chaosUsage}\n`);
    return 0;
  }
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const watchdog = setTimeout(() => {
    process.stderr.write(`chaos: the run overran ${options.seconds} s by more than ${overrunAllowanceMs / 1000} s; stopping every process\n`);
    process.exit(1);
  }, options.seconds * 1000 + overrunAllowanceMs);
  watchdog.unref();
  const result = await runChaos(options, say);
  clearTimeout(watchdog);
  if (result.keptIn !== undefined) say(`evidence kept in ${result.keptIn} (history.json, checker.txt, the process logs)`);
  say(summaryLine(result.summary));
  return result.passed ? 0 : 1;
}

// Ctrl-C or a kill: exit through process.exit, so that the exit hook kills the cluster (a paused server included).
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: the run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
