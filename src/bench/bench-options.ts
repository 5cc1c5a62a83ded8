/**
 * The command line of `npm run bench` (see bench-main.ts).
 */
import { UsageError, integerOptionWithin, parseCommandLine, type ParsedArgs } from "../cli/args.ts";

export const workloadMixes = ["put", "get", "mixed", "cas"] as const;
export type WorkloadMix = (typeof workloadMixes)[number];

/**
 * The Raft timing both systems run with, so that neither is measured with
 * more frequent heartbeats than the other: zraft's `heartbeatMs` and
 * `electionTimeoutMs` [E, 2E], etcd's --heartbeat-interval and
 * --election-timeout E (which etcd draws from [E, 2E) as zraft does).
 */
export interface RaftTiming {
  readonly heartbeatMs: number;
  readonly electionTimeoutMs: number;
}

/** The range both systems draw an election timeout from: zraft's `electionTimeoutMs`. */
export function electionTimeoutRange(timing: RaftTiming): readonly [number, number] {
  return [timing.electionTimeoutMs, 2 * timing.electionTimeoutMs];
}

/** etcd's own defaults: etcd runs as it ships, and zraft is given the same. */
export const defaultRaftTiming: RaftTiming = { heartbeatMs: 100, electionTimeoutMs: 1000 };

/** etcd refuses an election timeout under five heartbeats, or over 50 s. */
const etcdHeartbeatsPerElectionMin = 5;
const etcdElectionTimeoutMsMax = 50_000;

export interface BenchOptions {
  /** The concurrency of each step, in order. */
  readonly clients: readonly number[];
  readonly seconds: number;
  readonly mix: WorkloadMix;
  readonly keys: number;
  readonly valueSize: number;
  /** Gets may be answered by a follower from its own state. */
  readonly stale: boolean;
  /** Attach to the running cluster of this config; undefined: start a fresh one. */
  readonly configPath: string | undefined;
  readonly jsonFile: string | undefined;
  /** Then run the same steps against a local five-member etcd cluster, when `etcd` is on PATH. */
  readonly vsEtcd: boolean;
  /** The whole run this many times; with vsEtcd, in alternating order, then the medians compared. */
  readonly rounds: number;
  /** Unmeasured load before the first step, at its concurrency, on each system; 0: none. */
  readonly warmupSeconds: number;
  /** Of a cluster the bench starts, zraft's and etcd's alike; an attached zraft cluster (configPath) keeps its own. */
  readonly timing: RaftTiming;
}

export const benchUsage = `usage: npm run bench -- [--clients LIST] [--seconds N] [--mix put|get|mixed|cas] [--keys N] [--value-size B] [--stale] [--config FILE] [--json FILE] [--vs-etcd] [--rounds N] [--warmup N] [--heartbeat MS] [--election-timeout MS]
  --clients LIST    concurrency of each step, comma-separated closed-loop clients (default 1,8,32,128);
                    the overload check is --clients 128,1000 (1000 clients need about 10,300 open files: ulimit -n)
  --seconds N       length of each step in seconds (default 10)
  --mix MIX         put: puts only; get: gets only; mixed: half each; cas: compare-and-set of the value read last (default put)
  --keys N          size of the key space, at least the largest --clients: each client owns its own keys (default 1000)
  --value-size B    bytes per value (default 100)
  --stale           gets read stale (a follower may answer); default linearizable
  --config FILE     measure the running cluster of FILE (ZRAFT_CLIENT_KEY names the client key pair for a CURVE cluster);
                    default: start a forwarder and five servers in a temporary directory and stop them after
  --json FILE       also write every step's figures as JSON to FILE (default: none)
  --vs-etcd         then run the same steps against a local five-member etcd cluster (fsync on, loopback; the etcd
                    binary on PATH, Debian: apt-get install etcd-server) through the etcd3 package, and compare
  --rounds N        the whole run N times, each on fresh clusters; with --vs-etcd zraft goes first in odd rounds and
                    etcd in even ones, and the last tables compare each system's medians over the rounds and give
                    the median of each round's own ratio, which pairs figures measured minutes apart (default 1)
  --warmup N        before the first step, N seconds of the same load at its concurrency, not measured, on each system:
                    the steps measure servers and clients whose code is compiled and warm, as in a long run (default 10; 0: none)
  --heartbeat MS    the heartbeat interval of both systems: zraft's heartbeatMs, etcd's --heartbeat-interval (default 100)
  --election-timeout MS
                    the election timeout of both systems: zraft's electionTimeoutMs [MS, 2*MS], etcd's --election-timeout MS,
                    which etcd draws from [MS, 2*MS) too; at least 5 heartbeats, as etcd requires (default 1000: etcd's
                    defaults, so etcd runs as it ships; a cluster attached with --config keeps its own timing,
                    and a line says so when it differs from etcd's)
Ctrl-C ends the running step early: it is reported and every acknowledged write read back (exit 130).`;

/** Parses "1,8,32": positive integers, each at most 10,000. */
function parseClientList(text: string): number[] {
  const parts = text.split(",");
  return parts.map((part) => {
    if (!/^\d{1,5}$/.test(part) || Number(part) < 1 || Number(part) > 10_000) {
      throw new UsageError(`--clients must be a comma-separated list of integers from 1 to 10000, got "${text}"`);
    }
    return Number(part);
  });
}

/** Parses argv (without node and script); "help" for --help. Throws UsageError. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | "help" {
  const args = parseCommandLine(argv, { flags: ["help", "stale", "vs-etcd"], values: ["clients", "seconds", "mix", "keys", "value-size", "config", "json", "rounds", "warmup", "heartbeat", "election-timeout"] });
  if (args.flags.has("help")) return "help";
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const clients = parseClientList(args.values.get("clients") ?? "1,8,32,128");
  const mixText = args.values.get("mix") ?? "put";
  const mix = workloadMixes.find((candidate) => candidate === mixText);
  if (mix === undefined) throw new UsageError(`--mix must be one of ${workloadMixes.join(", ")}, got "${mixText}"`);
  const keys = integerOptionWithin(args, "keys", 1000, [1, 10_000_000]);
  const mostClients = Math.max(...clients);
  if (keys < mostClients) throw new UsageError(`--keys (${keys}) must be at least the largest --clients (${mostClients}): each client owns its keys`);
  return {
    clients,
    seconds: integerOptionWithin(args, "seconds", 10, [1, 86_400]),
    mix,
    keys,
    valueSize: integerOptionWithin(args, "value-size", 100, [16, 1_000_000]),
    stale: args.flags.has("stale"),
    configPath: args.values.get("config"),
    jsonFile: args.values.get("json"),
    vsEtcd: args.flags.has("vs-etcd"),
    rounds: integerOptionWithin(args, "rounds", 1, [1, 20]),
    warmupSeconds: integerOptionWithin(args, "warmup", 10, [0, 3_600]),
    timing: raftTimingOf(args),
  };
}

function raftTimingOf(args: ParsedArgs): RaftTiming {
  const heartbeatMs = integerOptionWithin(args, "heartbeat", defaultRaftTiming.heartbeatMs, [1, etcdElectionTimeoutMsMax / etcdHeartbeatsPerElectionMin]);
  const electionTimeoutMs = integerOptionWithin(args, "election-timeout", defaultRaftTiming.electionTimeoutMs, [1, etcdElectionTimeoutMsMax]);
  if (electionTimeoutMs < etcdHeartbeatsPerElectionMin * heartbeatMs) {
    throw new UsageError(
      `--election-timeout (${electionTimeoutMs} ms) must be at least ${etcdHeartbeatsPerElectionMin} times --heartbeat (${heartbeatMs} ms): etcd refuses less, and both systems run with the same timing`,
    );
  }
  return { heartbeatMs, electionTimeoutMs };
}

/**
 * A line saying how the attached cluster's timing (heartbeatMs,
 * electionTimeoutMs) differs from the one etcd is given, or undefined when
 * they match: the comparison is then of unequal configurations.
 */
export function timingMismatch(cluster: { readonly heartbeatMs: number; readonly electionTimeoutMs: readonly [number, number] }, timing: RaftTiming): string | undefined {
  const ours = cluster.electionTimeoutMs.join("-");
  const theirs = electionTimeoutRange(timing).join("-");
  if (cluster.heartbeatMs === timing.heartbeatMs && ours === theirs) return undefined;
  return (
    `--vs-etcd: the attached cluster runs with heartbeat ${cluster.heartbeatMs} ms and election timeout ${ours} ms, etcd with ` +
    `${timing.heartbeatMs} ms and ${theirs} ms: the two are not compared at the same timing ` +
    `(--heartbeat and --election-timeout set etcd's)`
  );
}
