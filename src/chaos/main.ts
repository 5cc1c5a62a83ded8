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
import { runTool } from "../cli/run-tool.ts";
import { chaosUsage, parseChaosOptions } from "./chaos-options.ts";
import { summaryLine } from "./report.ts";
import { runChaos } from "./run-chaos.ts";

/** Beyond the run itself: cluster start, recovery, final reads and the checker. A run that overruns it is stuck. */
const overrunAllowanceMs = 300_000;

runTool({
  name: "chaos",
  usage: chaosUsage,
  parse: parseChaosOptions,
  budgetMs: (options) => options.seconds * 1000 + overrunAllowanceMs,
  run: async (options, say) => {
    const result = await runChaos(options, say);
    if (result.keptIn !== undefined) say(`evidence kept in ${result.keptIn} (history.json, checker.txt, the process logs)`);
    say(summaryLine(result.summary));
    return result.passed ? 0 : 1;
  },
});
