/**
 * The command line of `npm run demo:failover` (see demo-main.ts).
 */
import { UsageError, integerOption, integerOptionWithin, parseCommandLine } from "../cli/args.ts";
import { parseTimeoutRange, type TimeoutRange } from "./timeout-ranges.ts";

export const failoverModes = ["kill", "pause", "step-down", "transfer", "forwarder"] as const;
export type FailoverMode = (typeof failoverModes)[number];

export interface FailoverOptions {
  readonly rounds: number;
  readonly mode: FailoverMode;
  /** Write the rounds as JSON here. */
  readonly jsonFile: string | undefined;
  /** Attach to the running cluster this file describes instead of starting one. */
  readonly configPath: string | undefined;
  /** The client's CURVE key pair, for an attached cluster with a curve section. */
  readonly keyFile: string | undefined;
  /** The election timeout of the cluster this tool starts (default: the local cluster's 150-300). */
  readonly timeout: TimeoutRange | undefined;
  /** Its heartbeat interval, with --timeout (default: well below the timeout's low end, see heartbeatFor). */
  readonly heartbeatMs: number | undefined;
  /** Concurrent writers. */
  readonly writers: number;
  readonly seed: number;
}

export const failoverUsage = `usage: npm run demo:failover -- [--rounds N] [--mode MODE] [--json FILE] [--config F [--key K]] [--timeout LOW-HIGH [--heartbeat MS]]
  --rounds N          faults to inject, one per round (default 5)
  --mode MODE         the fault of each round (default kill):
                        kill       SIGKILL; restarted at the end of the round
                        pause      SIGSTOP; SIGCONT at the end of the round
                        step-down  the admin action step-down
                        transfer   the admin action transfer, to a random follower
                        forwarder  SIGKILL one of the cluster's two forwarders; restarted at the end
                                   of the round (no election should follow: every server is on both)
  --json FILE         also write every round's timeline as JSON to FILE
  --config F          attach to the running cluster F describes instead of starting one
                      (kill and pause signal the pids the servers report in status; not with forwarder)
  --key K             the client's CURVE key pair, when F has a curve section (default: $ZRAFT_CLIENT_KEY)
  --timeout LOW-HIGH  election timeout of the cluster the demo starts, in ms (default 150-300)
  --heartbeat MS      its heartbeat interval (default: a third of LOW, at most 50; the fast profile is
                      --timeout 50-100 --heartbeat 10)
  --writers N         concurrent writing clients (default 4)
  --seed N            seed for the random choices (default: drawn, and printed)`;

const limits = { rounds: [1, 1000], writers: [1, 64], heartbeat: [1, 1000] } as const;

const bounded = (args: ReturnType<typeof parseCommandLine>, name: keyof typeof limits, fallback: number): number =>
  integerOptionWithin(args, name, fallback, limits[name]);

/** Parses argv (without node and script); "help" for --help. Throws UsageError. */
export function parseFailoverOptions(argv: readonly string[], drawSeed: () => number = () => Math.floor(Math.random() * 1_000_000)): FailoverOptions | "help" {
  const args = parseCommandLine(argv, { flags: ["help"], values: ["rounds", "mode", "json", "config", "key", "timeout", "heartbeat", "writers", "seed"] });
  if (args.flags.has("help")) return "help";
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const mode = args.values.get("mode") ?? "kill";
  if (!(failoverModes as readonly string[]).includes(mode)) throw new UsageError(`--mode must be one of ${failoverModes.join(", ")}, got "${mode}"`);
  const configPath = args.values.get("config");
  const timeoutText = args.values.get("timeout");
  if (configPath !== undefined && timeoutText !== undefined) {
    throw new UsageError("--timeout sets the election timeout of a cluster the demo starts; an attached cluster (--config) keeps its own");
  }
  if (args.values.has("heartbeat") && timeoutText === undefined) throw new UsageError("--heartbeat goes with --timeout");
  if (configPath === undefined && args.values.has("key")) throw new UsageError("--key goes with --config (the demo's own cluster has no CURVE)");
  if (configPath !== undefined && mode === "forwarder") {
    throw new UsageError("--mode forwarder kills and restarts forwarders, so it needs the cluster the demo starts, not --config");
  }
  return {
    rounds: bounded(args, "rounds", 5),
    mode: mode as FailoverMode,
    jsonFile: args.values.get("json"),
    configPath,
    keyFile: args.values.get("key") ?? (configPath === undefined ? undefined : process.env.ZRAFT_CLIENT_KEY || undefined),
    timeout: timeoutText === undefined ? undefined : parseTimeoutRange(timeoutText),
    heartbeatMs: args.values.has("heartbeat") ? bounded(args, "heartbeat", 50) : undefined,
    writers: bounded(args, "writers", 4),
    seed: args.values.has("seed") ? integerOption(args, "seed", 0) : drawSeed(),
  };
}
