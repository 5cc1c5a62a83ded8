/**
 * The command line of `npm run chaos` (see src/chaos/main.ts): how long,
 * how many clients and keys, which faults, which seed, where to keep the
 * evidence.
 */
import { UsageError, integerOption, integerOptionWithin, parseCommandLine } from "../cli/args.ts";

export const faultKinds = ["kill", "pause", "partition", "majority", "restart-all", "forwarder", "membership"] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface ChaosOptions {
  readonly seconds: number;
  readonly clients: number;
  readonly keys: number;
  /** In the order the nemesis cycles through them; empty for a run without faults. */
  readonly faults: readonly FaultKind[];
  readonly seed: number;
  /** Forwarders in the cluster: every message crosses each, so with two or more each server gets it that many times. */
  readonly forwarders: number;
  /**
   * Servers snapshot and compact every this many entries (the config's
   * snapshot.entries), keeping a tenth of it below each snapshot: small, so
   * that snapshots, compaction and installs on servers brought back from a
   * fault all happen during the run.
   */
  readonly snapshotEvery: number;
  /** Keep the history, the checker's explanation and the logs here, whatever the outcome. */
  readonly keepDir: string | undefined;
}

export const chaosUsage = `usage: npm run chaos -- [--seconds S] [--clients N] [--keys K] [--faults LIST] [--forwarders F] [--snapshot-every E] [--seed N] [--keep DIR]
  --seconds S    how long clients and faults run (default 60)
  --clients N    concurrent clients (default 10)
  --keys K       keys the clients share (default 10)
  --faults LIST  comma-separated, cycled in this order (default all): ${faultKinds.join(",")}; or none
  --forwarders F forwarders in the cluster, 1 to 3 (default 1); with more, each server receives every
                 message once per forwarder, a partition's rules go to all of them and the forwarder
                 fault kills one
  --snapshot-every E  servers snapshot and compact their logs every E entries (default 300), so
                 that servers back from a fault often catch up by snapshot
  --seed N       seed for every random choice (default: drawn, and printed)
  --keep DIR     keep the history, the checker's verdict and every process log in DIR
                 (a failed run keeps them in the cluster's temp dir anyway)`;

/** Bounds that keep a run sane on one machine. */
const limits = { seconds: [1, 3600], clients: [1, 200], keys: [1, 1000], forwarders: [1, 3], "snapshot-every": [10, 1_000_000] } as const;

const boundedInteger = (args: ReturnType<typeof parseCommandLine>, name: keyof typeof limits, fallback: number): number =>
  integerOptionWithin(args, name, fallback, limits[name]);

function parseFaults(text: string | undefined): FaultKind[] {
  if (text === undefined) return [...faultKinds];
  if (text === "none") return [];
  const kinds = text.split(",").map((item) => item.trim());
  for (const kind of kinds) {
    if (!(faultKinds as readonly string[]).includes(kind)) throw new UsageError(`--faults: "${kind}" is not one of ${faultKinds.join(", ")} (or none)`);
  }
  return kinds as FaultKind[];
}

/** Parses argv (without node and script); "help" for --help. Throws UsageError. */
export function parseChaosOptions(argv: readonly string[], drawSeed: () => number = () => Math.floor(Math.random() * 1_000_000)): ChaosOptions | "help" {
  const args = parseCommandLine(argv, { flags: ["help"], values: ["seconds", "clients", "keys", "faults", "forwarders", "snapshot-every", "seed", "keep"] });
  if (args.flags.has("help")) return "help";
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  return {
    seconds: boundedInteger(args, "seconds", 60),
    clients: boundedInteger(args, "clients", 10),
    keys: boundedInteger(args, "keys", 10),
    faults: parseFaults(args.values.get("faults")),
    seed: args.values.has("seed") ? integerOption(args, "seed", 0) : drawSeed(),
    forwarders: boundedInteger(args, "forwarders", 1),
    snapshotEvery: boundedInteger(args, "snapshot-every", 300),
    keepDir: args.values.get("keep"),
  };
}
