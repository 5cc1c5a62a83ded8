/**
 * The command line of `npm run bench:election` (see bench-main.ts).
 */
import { UsageError, integerOption, integerOptionWithin, parseCommandLine } from "../cli/args.ts";
import { parseTimeoutRanges, type TimeoutRange } from "./timeout-ranges.ts";

export interface ElectionBenchOptions {
  readonly ranges: readonly TimeoutRange[];
  readonly rounds: number;
  readonly svgFile: string;
  /** Also write the measurements as JSON here. */
  readonly jsonFile: string | undefined;
  readonly seed: number;
}

export const electionBenchUsage = `usage: npm run bench:election -- [--timeout LOW-HIGH[,LOW-HIGH...]] [--rounds N] [--svg FILE] [--json FILE] [--seed N]
  --timeout LIST  election timeout ranges in ms, one fresh cluster each (default 150-300)
  --rounds N      kill -9 of the leader per range (default 100)
  --svg FILE      the chart of every range's cumulative distribution (default election-cdf.svg)
  --json FILE     also write every measurement as JSON to FILE
  --seed N        seed for the wait before each kill (default: drawn, and printed)`;

/** Parses argv (without node and script); "help" for --help. Throws UsageError. */
export function parseElectionBenchOptions(argv: readonly string[], drawSeed: () => number = () => Math.floor(Math.random() * 1_000_000)): ElectionBenchOptions | "help" {
  const args = parseCommandLine(argv, { flags: ["help"], values: ["timeout", "rounds", "svg", "json", "seed"] });
  if (args.flags.has("help")) return "help";
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const rounds = integerOptionWithin(args, "rounds", 100, [1, 10_000]);
  return {
    ranges: parseTimeoutRanges(args.values.get("timeout") ?? "150-300"),
    rounds,
    svgFile: args.values.get("svg") ?? "election-cdf.svg",
    jsonFile: args.values.get("json"),
    seed: args.values.has("seed") ? integerOption(args, "seed", 0) : drawSeed(),
  };
}
