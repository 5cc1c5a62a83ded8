/**
 * `npx tsx bench/cluster-bench.ts [--config FILE] [--runs N] [--seconds S] [--value-bytes B]`
 *
 * Measures a real cluster on this machine and prints:
 *   - failover: the time from kill -9 of the leader to the first write
 *     acknowledged afterwards, over N runs (default 5), with the median;
 *     the killed server is restarted and caught up before the next run;
 *   - throughput: puts per second with 1 and with 32 concurrent clients
 *     (B-byte values, default 100; S seconds each, default 5), with p50 and
 *     p99 latency.
 *
 * Without --config it starts its own cluster (forwarder and five servers,
 * with src/local-cluster, in a temp directory it removes, or keeps with the
 * processes' logs if the bench fails). With --config it measures the
 * running cluster that file describes, throughput only: it does not kill
 * servers it did not start.
 */
import { availableParallelism } from "node:os";
import { integerOption, parseCommandLine, reportCommandLineError, UsageError } from "../src/cli/args.ts";
import { ZraftClient, type ZraftClientOptions } from "../src/client/zraft-client.ts";
import { loadClusterConfig, type ClusterConfig } from "../src/config/cluster-config.ts";
import { startLocalCluster, waitFor, type LocalCluster } from "../src/local-cluster/index.ts";

const usage = "usage: npx tsx bench/cluster-bench.ts [--config FILE] [--runs N] [--seconds S] [--value-bytes B]";

/** The concurrency levels measured. */
const clientCounts = [1, 32] as const;
/** Writes before each throughput measurement, so that sockets are connected and the leader is known. */
const warmUpWritesPerClient = 20;
/**
 * The failover client gives up on a silent server after this long. It bounds
 * what the client adds to the election time: with the library's default of
 * 1000 ms, a client still talking to the dead leader would wait that long.
 */
const failoverRequestTimeoutMs = 250;

interface Options {
  readonly configPath: string | undefined;
  readonly runs: number;
  readonly seconds: number;
  readonly valueBytes: number;
}

function parseOptions(argv: readonly string[]): Options | "help" {
  const args = parseCommandLine(argv, { flags: ["help"], values: ["config", "runs", "seconds", "value-bytes"] });
  if (args.flags.has("help")) return "help";
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const positive = (name: string, fallback: number): number => {
    const value = integerOption(args, name, fallback);
    if (value < 1) throw new UsageError(`--${name} must be at least 1`);
    return value;
  };
  return {
    configPath: args.values.get("config"),
    runs: positive("runs", 5),
    seconds: positive("seconds", 5),
    valueBytes: positive("value-bytes", 100),
  };
}

/** The value at quantile `q` (0..1) of ascending `sorted`, nearest rank. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

const ms = (value: number): string => `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;

// ---------------------------------------------------------------------------
// Failover

interface FailoverRun {
  /** Kill to the first status in which a survivor says it leads in a later term. */
  readonly electionMs: number;
  /** Kill to the first acknowledged write. */
  readonly failoverMs: number;
  readonly from: number;
  readonly to: number;
  readonly termBefore: number;
  readonly termAfter: number;
}

/**
 * Kills the leader with SIGKILL, times the first write acknowledged after
 * it, then restarts the killed server and waits until it has caught up.
 */
async function measureFailover(cluster: LocalCluster, run: number): Promise<FailoverRun> {
  const client = cluster.client({ requestTimeoutMs: failoverRequestTimeoutMs, deadlineMs: 30_000, backoffMsMin: 10, backoffMsMax: 100 });
  // The leader that has just acknowledged this client's write, as a busy client's would have, and still leads:
  // killing a server that has meanwhile lost an election would measure nothing.
  const leader = await waitFor(
    async () => {
      const reply = await client.put(`failover/${run}/before`, run);
      const status = reply.leaderId === null ? undefined : await cluster.status(reply.leaderId);
      return status?.role === "leader" && status.term === reply.term ? status : undefined;
    },
    { timeoutMs: 30_000, what: "a leader that acknowledges a write" },
  );

  const killed = cluster.process(`server-${leader.id}`);
  const survivors = cluster.serverIds.filter((id) => id !== leader.id);
  const startedMs = performance.now();
  process.kill(leader.pid, "SIGKILL");
  const elected = waitFor(
    async () => {
      const statuses = await Promise.all(survivors.map((id) => cluster.status(id, 100)));
      return statuses.some((status) => status?.role === "leader" && status.term > leader.term) ? performance.now() - startedMs : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 5, what: "a new leader" },
  );
  const reply = await client.put(`failover/${run}/after`, run);
  const failoverMs = performance.now() - startedMs;
  const electionMs = await elected;
  await killed?.exited;

  cluster.startServer(leader.id);
  await cluster.waitForServer(leader.id);
  const current = await cluster.findLeader();
  await waitFor(
    async () => {
      const status = await cluster.status(leader.id);
      return status !== undefined && status.lastApplied >= current.commitIndex;
    },
    { timeoutMs: 30_000, what: `server ${leader.id} to catch up` },
  );
  return { electionMs, failoverMs, from: leader.id, to: reply.leaderId ?? current.id, termBefore: leader.term, termAfter: reply.term };
}

// ---------------------------------------------------------------------------
// Throughput

interface ThroughputResult {
  readonly clients: number;
  readonly puts: number;
  readonly putsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

/** `clients` ZraftClients, each writing back-to-back for `seconds`; latency of every acknowledged put. */
async function measureThroughput(config: ClusterConfig, clients: number, seconds: number, valueBytes: number): Promise<ThroughputResult> {
  const options: ZraftClientOptions = { config, requestTimeoutMs: 2_000, deadlineMs: 20_000 };
  const workers = Array.from({ length: clients }, () => new ZraftClient(options));
  const value = "v".repeat(valueBytes);
  try {
    await Promise.all(workers.map(async (client, w) => {
      for (let i = 0; i < warmUpWritesPerClient; i++) await client.put(`bench/warm-up/${w}`, value);
    }));
    const latenciesMs: number[] = [];
    let failures = 0;
    const startedMs = performance.now();
    const endMs = startedMs + seconds * 1000;
    await Promise.all(
      workers.map(async (client, w) => {
        for (let n = 0; performance.now() < endMs; n++) {
          const sentMs = performance.now();
          try {
            await client.put(`bench/${clients}/${w}/${n}`, value);
            latenciesMs.push(performance.now() - sentMs);
          } catch {
            failures++;
          }
        }
      }),
    );
    const elapsedSeconds = (performance.now() - startedMs) / 1000;
    latenciesMs.sort((a, b) => a - b);
    return {
      clients,
      puts: latenciesMs.length,
      putsPerSecond: latenciesMs.length / elapsedSeconds,
      p50Ms: quantile(latenciesMs, 0.5),
      p99Ms: quantile(latenciesMs, 0.99),
      failures,
    };
  } finally {
    for (const client of workers) client.close();
  }
}

/**
 * Waits until every server has applied everything the leader has
 * committed, so that one measurement's backlog does not slow the next.
 */
async function waitUntilApplied(config: ClusterConfig): Promise<void> {
  const client = new ZraftClient({ config });
  const statuses = (): Promise<Array<{ readonly role: string; readonly commitIndex: number; readonly lastApplied: number }>> =>
    Promise.all(config.servers.map((server) => client.status(server.id, { timeoutMs: 1_000 })));
  try {
    await waitFor(
      async () => {
        const all = await statuses();
        const leader = all.find((status) => status.role === "leader");
        return leader !== undefined && all.every((status) => status.lastApplied >= leader.commitIndex);
      },
      { timeoutMs: 60_000, intervalMs: 100, what: "every server to apply what the leader committed" },
    );
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------------------

async function bench(options: Options, cluster: LocalCluster | undefined, config: ClusterConfig): Promise<void> {
  console.log(
    `cluster: ${cluster === undefined ? `running, from ${options.configPath}` : `started by the bench in ${cluster.dir}`}; ` +
      `${config.servers.length} servers, ${config.forwarders.length} forwarder(s), election timeout ${config.electionTimeoutMs.join("-")} ms, ` +
      `heartbeat ${config.heartbeatMs} ms; ${availableParallelism()} CPUs`,
  );

  if (cluster === undefined) {
    console.log("failover: skipped (with --config the bench does not kill servers it did not start)");
  } else {
    console.log(
      `failover: kill -9 of the leader → a survivor reports leading, and → the first acknowledged write ` +
        `(client request timeout ${failoverRequestTimeoutMs} ms)`,
    );
    const runs: FailoverRun[] = [];
    for (let run = 1; run <= options.runs; run++) {
      const result = await measureFailover(cluster, run);
      runs.push(result);
      console.log(
        `  run ${run}: elected ${ms(result.electionMs)}, first write ${ms(result.failoverMs)} ` +
          `(leader ${result.from} → ${result.to}, term ${result.termBefore} → ${result.termAfter})`,
      );
    }
    const summary = (values: number[]): string => {
      const sorted = [...values].sort((a, b) => a - b);
      return `median ${ms(quantile(sorted, 0.5))} (min ${ms(sorted[0] as number)}, max ${ms(sorted[sorted.length - 1] as number)})`;
    };
    console.log(`  elected:     ${summary(runs.map((run) => run.electionMs))}`);
    console.log(`  first write: ${summary(runs.map((run) => run.failoverMs))}`);
  }

  console.log(`throughput: puts of ${options.valueBytes}-byte values, ${options.seconds} s per level`);
  for (const clients of clientCounts) {
    const result = await measureThroughput(config, clients, options.seconds, options.valueBytes);
    const label = `${clients} client${clients === 1 ? "" : "s"}`.padEnd(10);
    console.log(
      `  ${label} ${result.putsPerSecond.toFixed(0).padStart(6)} puts/s  p50 ${ms(result.p50Ms)}  p99 ${ms(result.p99Ms)}` +
        `  (${result.puts} puts${result.failures > 0 ? `, ${result.failures} failed` : ""})`,
    );
    await waitUntilApplied(config);
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv);
  if (options === "help") {
    console.log(usage);
    return;
  }
  if (options.configPath !== undefined) {
    await bench(options, undefined, loadClusterConfig(options.configPath));
    return;
  }
  const cluster = await startLocalCluster();
  const stop = (): void => void cluster.cleanup().finally(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let failed = true;
  try {
    await bench(options, cluster, cluster.config);
    failed = false;
  } finally {
    await cluster.cleanup({ keepDir: failed });
    if (failed) console.error(`\n--- cluster ${cluster.dir} (kept) ---\n${cluster.diagnostics()}`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const exitCode = reportCommandLineError("cluster-bench", error, usage);
    if (exitCode !== undefined) process.exit(exitCode);
    console.error(error);
    process.exit(1);
  },
);
