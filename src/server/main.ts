/**
 * `npm run server -- --id N [--config F] [--join] [--log-level L] [--log-json FILE]`:
 * one zraft server in the foreground. Wires the Raft core to LMDB storage,
 * the KV state machine, the peer transport and the client endpoint, then
 * runs four loops: client requests, peer messages, the Ready loop (persist,
 * send, apply) and the ticker (elections, heartbeats, request deadlines).
 */
import { randomInt } from "node:crypto";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { configFromArgs, integerOption, parseCommandLine, reportCommandLineError, UsageError } from "../cli/args.ts";
import { logSettingsFrom, logOptions } from "../cli/log-options.ts";
import { configOption, helpText, optionSpecOf, usageLine, type ProgramOption } from "../cli/program-options.ts";
import { parentPidVariable, watchParentProcess } from "../cli/parent-watchdog.ts";
import { clusterKeyPair, configNameOf, type ClusterConfig } from "../config/cluster-config.ts";
import { seedMembership } from "../config/member-endpoints.ts";
import { KvStore } from "../kv/kv-store.ts";
import { kvSnapshotProblem, SnapshotFormatError } from "../kv/kv-snapshot.ts";
import { RaftNode, SeededRandom, raftConfigDefaults, snapshotMembership, stateChunksOf, type Membership, type RaftConfig } from "../raft/index.ts";
import { WalStorage } from "../storage/wal-storage.ts";
import { StorageError, StorageWriteError } from "../storage/storage-error.ts";
import { ClientEndpoint, CurveUnavailableError, EndpointBindError } from "../transport/client-endpoint.ts";
import { closeLogger, createLogger, loggerFrom } from "../logging/logging.ts";
import { PeerTransport } from "../transport/peer-transport.ts";
import { RaftServer, raftServerLimitsDefaults } from "../runtime/raft-server.ts";
import type { LeaderWatchTiming } from "../runtime/leader-watch.ts";
import { snapshotPolicyDefaults } from "../runtime/snapshot-policy.ts";
import { RunningClock } from "../runtime/running-clock.ts";
import { KvService } from "../service/kv-service.ts";
import { describeMembership } from "./describe-membership.ts";
import { ReplicationLog, replicationCheckEveryMs } from "./replication-log.ts";

const command = "npm run server --";

const options: readonly ProgramOption[] = [
  { name: "id", value: "N", help: "which server of the configuration to run", fallback: "required" },
  configOption,
  {
    name: "join",
    help:
      "join a running cluster: start with no configuration, never campaign, and wait for the leader to add this server " +
      "(zraft add N --client ENDPOINT); until this server stores a snapshot, its log starts with no configuration. " +
      "Keep it on every start of a server that joined",
    fallback: "the config's servers are the first configuration (a new cluster, docs/protocol.md §2)",
  },
  ...logOptions,
];

const usage = usageLine(command, options);

const help = helpText(
  command,
  [
    "One zraft server in the foreground: it keeps its log and state in the config's dataDir (server-N),",
    "answers clients on its client endpoint and reaches the other servers through the forwarders.",
    "Exit codes: 0 after SIGINT, SIGTERM or an admin shutdown; 1 when it cannot start; 2 on a usage or config error.",
  ],
  options,
);

/**
 * How often the ticker runs: a fifth of the heartbeat, from 2 to 10 ms, so
 * that timers fire close to their deadlines (a 10 ms tick would add 5 ms on
 * average to every election of the fast profile's 50-100 ms timeouts).
 */
function tickIntervalFor(cluster: ClusterConfig): number {
  return Math.min(10, Math.max(2, Math.floor(cluster.heartbeatMs / 5)));
}

/**
 * The server's timers run on a RunningClock: a freeze of the process longer
 * than five ticks (a heartbeat interval at most) counts as five ticks, so
 * that a stall of the whole machine expires no election timeout.
 */
function runningClockFor(cluster: ClusterConfig): RunningClock {
  return new RunningClock(() => performance.now(), 5 * tickIntervalFor(cluster));
}

/**
 * docs/protocol.md §9: a follower that missed two heartbeats (and a tick of
 * lateness) holds requests until it hears from a leader again, for at most
 * one longest election timeout.
 */
function leaderWatchFor(cluster: ClusterConfig): LeaderWatchTiming {
  return { silenceMs: 2 * cluster.heartbeatMs + tickIntervalFor(cluster), holdMs: cluster.electionTimeoutMs[1] };
}

function raftConfigFor(cluster: ClusterConfig, id: number): RaftConfig {
  return {
    ...raftConfigDefaults,
    id,
    peers: cluster.servers.map((server) => server.id),
    electionTimeoutMsMin: cluster.electionTimeoutMs[0],
    electionTimeoutMsMax: cluster.electionTimeoutMs[1],
    heartbeatMs: cluster.heartbeatMs,
  };
}

/**
 * The configuration of a server that joins a running cluster before it
 * learns one from the leader (dissertation §4.2.1): no voters, so that it
 * never campaigns, whatever servers its config file lists.
 */
const noConfiguration: Membership = { voters: [], learners: [], context: "" };

/**
 * Restores `kv` from the stored snapshot, if any, and returns the
 * configuration the snapshot keeps; undefined without one (the seed
 * applies, or none for a server that joins). An image that does not decode
 * is a StorageError, as any corrupt file.
 */
function restoreStoredSnapshot(storage: WalStorage, kv: KvStore): Membership | undefined {
  const stored = storage.readSnapshot();
  if (stored === null) return undefined;
  const corrupt = (problem: string): StorageError => new StorageError(storage.path, `the stored snapshot up to entry ${stored.meta.index} is corrupt: ${problem}`);
  const membership = snapshotMembership(stored.chunks());
  if (typeof membership === "string") throw corrupt(membership);
  try {
    kv.restore(stored.meta.index, stateChunksOf(stored.chunks()));
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw corrupt(error.message);
    throw error;
  }
  return membership;
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseCommandLine(argv, optionSpecOf(options));
  if (args.flags.has("help")) {
    console.log(help);
    return;
  }
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  if (!args.values.has("id")) throw new UsageError("--id N is required");
  const id = integerOption(args, "id", 0);
  const cluster = configFromArgs(args);
  const configName = configNameOf(args.values.get("config") ?? process.env.ZRAFT_CONFIG);
  const clusterKeys = cluster.curve === undefined ? undefined : clusterKeyPair(cluster.curve, configName);
  const self = cluster.servers.find((server) => server.id === id);
  if (self === undefined) {
    throw new UsageError(`--id ${id}: the config has no such server (ids: ${cluster.servers.map((s) => s.id).join(", ")})`);
  }
  // Under a launcher every line already carries the process name as a prefix.
  const logger = createLogger({ serverName: `server ${id}`, ...logSettingsFrom(args), showName: process.env[parentPidVariable] === undefined });
  const baseLogger = loggerFrom(logger);

  const dataDir = resolve(cluster.dataDir);
  const storage = await WalStorage.open(dataDir, id);
  const raftConfig = raftConfigFor(cluster, id);
  // Only the log's tail is loaded; the core reads older entries from the storage (docs/architecture.md §2).
  const state = await storage.load(raftConfig.logTailBytesMax);
  const kv = new KvStore({ logger: baseLogger });
  // Dissertation §5.1: a restart is the stored snapshot plus the log after it. The config file seeds the
  // first configuration only (docs/protocol.md §2); later ones are in the log and in the snapshot.
  const membership = restoreStoredSnapshot(storage, kv) ?? (args.flags.has("join") ? noConfiguration : seedMembership(cluster));
  const clock = runningClockFor(cluster);
  const node = new RaftNode({
    config: raftConfig,
    hardState: state.hardState,
    entries: state.entries,
    storage,
    logStart: state.logStart,
    snapshot: state.snapshot,
    snapshotProblem: kvSnapshotProblem,
    membership,
    nowMs: clock.nowMs(),
    random: new SeededRandom(randomInt(2 ** 31)),
    logger: baseLogger,
  });

  // docs/protocol.md §10: with `curve`, clients must know the cluster's public key (and be listed, if
  // `clients` is given), and towards the forwarders this server presents the cluster's own key pair.
  const clientKeys = cluster.curve?.clients;
  let endpoint: ClientEndpoint;
  try {
    endpoint = await ClientEndpoint.open({
      endpoint: self.client,
      logger: baseLogger,
      pendingRequestsMax: raftServerLimitsDefaults.pendingRequestsMax,
      ...(clusterKeys === undefined ? {} : { curve: { secretKey: clusterKeys.secretKey, ...(clientKeys === undefined ? {} : { clientKeys }) } }),
    });
  } catch (error) {
    await storage.close();
    throw error;
  }
  let transport: PeerTransport;
  try {
    transport = new PeerTransport({
      selfId: id,
      serverIds: cluster.servers.map((server) => server.id),
      forwarders: cluster.forwarders,
      logger: baseLogger,
      ...(clusterKeys === undefined ? {} : { curve: { serverPublicKey: clusterKeys.publicKey, ...clusterKeys } }),
    });
  } catch (error) {
    await endpoint.close();
    await storage.close();
    throw error;
  }
  if (clusterKeys !== undefined) {
    logger.info(
      `CURVE is on: peers and clients are encrypted; ${clientKeys === undefined ? "any client that knows the cluster's public key" : `${clientKeys.length} listed client key(s)`} admitted`,
    );
  }

  let exiting = false;
  const fatal = (error: unknown): void => {
    // A full or failing disk, or a log that cannot be read back, is an operator's problem, not a bug:
    // one line says what happened.
    logger.error(
      error instanceof StorageWriteError
        ? `stopping: ${error.message}; nothing that was not on disk was acknowledged`
        : error instanceof StorageError
          ? `stopping: ${error.message}`
          : `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    void closeLogger(logger).finally(() => process.exit(1));
  };
  const leaderWatch = leaderWatchFor(cluster);
  const server = new RaftServer({
    node,
    storage,
    stateMachine: kv,
    peers: transport,
    leaderWatch,
    snapshots: { ...snapshotPolicyDefaults, ...cluster.snapshot },
    nowMs: () => clock.nowMs(),
    onFatal: fatal,
    // Who the peers are follows the configuration in force, whatever the config file lists.
    onMembershipChange: (inForce) => {
      transport.followMembers([...inForce.voters, ...inForce.learners]);
      logger.info(describeMembership(inForce, id));
    },
  });

  // A restart applies the committed log before it ticks or listens, so that its election timer starts
  // afterwards with a full timeout to hear from the leader, however long the replay takes.
  const replayStartedMs = performance.now();
  await server.catchUp();
  const replayMs = Math.round(performance.now() - replayStartedMs);
  // Verifying and replaying read the whole log: a fresh map lets go of its pages.
  await storage.remap();
  // A tick can read the log from storage (a heartbeat's prevLogTerm): a failed read stops the server.
  const ticker = setInterval(() => {
    try {
      server.tick();
    } catch (error) {
      clearInterval(ticker);
      fatal(error);
    }
  }, tickIntervalFor(cluster));
  const replicationLog = new ReplicationLog(
    cluster,
    leaderWatch.silenceMs,
    { appliedIndex: kv.lastApplied, startedMs: replayStartedMs },
    { status: () => server.status(), followers: () => node.followers(), leaderCommitIndex: () => node.leaderCommitIndex(), membership: () => server.membership() },
    server.contacts,
    baseLogger,
  );
  const replicationTimer = setInterval(() => replicationLog.check(performance.now()), replicationCheckEveryMs);
  const shutdown = async (reason: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    logger.info(`shutting down (${reason})`);
    clearInterval(ticker);
    clearInterval(replicationTimer);
    await server.stop();
    await endpoint.close();
    await transport.close();
    await storage.close();
    logger.info("stopped");
    await closeLogger(logger);
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT").catch(fatal));
  process.on("SIGTERM", () => void shutdown("SIGTERM").catch(fatal));
  const service = new KvService({
    id,
    pid: process.pid,
    uptimeMs: () => process.uptime() * 1000,
    cluster,
    runtime: server,
    sessions: kv.sessions,
    clients: endpoint,
    logger: baseLogger,
    wallClockMs: Date.now,
    // Answered first: the reply is queued, and closing the endpoint sends what is queued.
    onShutdownRequested: () => void shutdown("an admin shutdown request").catch(fatal),
  });
  watchParentProcess(() => void shutdown("the launcher is gone").catch(fatal));

  transport
    .listen((message) => server.receivePeerMessage(message))
    .catch(fatal);
  endpoint
    .listen((request) =>
      request.overLimit ? service.refuseOverloaded(request.replyTo, request.frames) : service.receive(request.replyTo, request.frames),
    )
    .catch(fatal);

  const status = node.status();
  // What a restart found: the snapshot it restored from, and the log after it that it replayed.
  const snapshot = status.snapshotIndex > 0 ? `snapshot up to ${status.snapshotIndex}, ` : "";
  const log = status.lastLogIndex > status.logStartIndex ? `log ${status.logStartIndex + 1} to ${status.lastLogIndex}` : "no log after it";
  logger.info(
    `serving clients on ${self.client}; data in ${dataDir}/server-${id}: term ${status.term}, ${snapshot}${status.snapshotIndex > 0 ? log : `${status.lastLogIndex} log entries`}, ` +
      `${status.commitIndex} committed, ${kv.lastApplied} applied (${kv.lastApplied - status.snapshotIndex} replayed) in ${replayMs} ms`,
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const exitCode = reportCommandLineError("zraft server", error, usage);
  if (exitCode !== undefined) process.exit(exitCode);
  if (error instanceof StorageError || error instanceof EndpointBindError || error instanceof CurveUnavailableError) {
    console.error(`zraft server: ${error.message}`);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
