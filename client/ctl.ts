/**
 * `npm run ctl -- COMMAND`: the controller (docs/protocol.md §1).
 *
 *   status [--watch] [--json]     every server of the config: role, term, leader, log, pid, uptime
 *   leader [--json]               who leads, in which term
 *   timeout N                     server N campaigns now (the seed's TIMEOUT)
 *   step-down N                   leader N becomes a follower (the seed's CONVERT_FOLLOWER)
 *   shutdown N                    server N answers what it has in flight and exits 0 (SHUTDOWN)
 *   transfer N                    the leader hands leadership to server N (dissertation §3.10)
 *   keygen [--config-out FILE]    CURVE keys (docs/protocol.md §10)
 *
 * Exit codes: 0 success; 1 when the cluster refused or a server did not
 * answer (or, for keygen, the keys cannot be made or the file cannot be
 * written); 2 a usage or config error.
 */
import { writeFileSync } from "node:fs";
import { UsageError, configFromArgs, parseCommandLine, reportCommandLineError, type ParsedArgs } from "../src/cli/args.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { assertNever } from "../src/base/assert.ts";
import { validateClusterConfig, type ClusterConfig, type ServerConfig } from "../src/config/cluster-config.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import { clientCurveKeys } from "./client-key.ts";
import { runServerAction } from "./ctl-admin.ts";
import { leaderOf, statusJson, statusTable, surveyCluster } from "./ctl-status.ts";
import { CurveUnavailableError, generateCurveKeyPair } from "../src/net/curve-security.ts";

const usage = `usage: npm run ctl -- [--config F] [--key K] COMMAND
commands:
  status [--watch] [--json]   every server of the config: state, role, term, leader, commit and
                              applied index, last log index, how far each follower is behind, pid,
                              uptime; --watch redraws it about 4 times a second until Ctrl-C
  leader [--json]             which server leads, in which term
  timeout N                   server N campaigns for leadership now
  step-down N                 leader N becomes a follower and does not stand for one election timeout
  shutdown N                  server N answers what it has in flight, stops and exits 0
  transfer N                  the leader hands leadership to server N
  keygen                      print a new CURVE key pair as JSON { "publicKey", "secretKey" }
                              (npm run ctl -- keygen > client-key.json)
  keygen --config-out FILE    write a copy of the config to FILE with a new curve key pair for the
                              cluster; an existing FILE is never overwritten
options:
  --config FILE  cluster configuration (default: $ZRAFT_CONFIG, else the built-in cluster)
  --key FILE     this client's CURVE key pair, when the config has a curve section (default: $ZRAFT_CLIENT_KEY)
  --json         print JSON instead of lines for a person
exit codes: 0 success, 1 refused or no answer, 2 usage or config error`;

/** What `ctl` writes to; the process's streams in `npm run ctl`. */
interface Streams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: NodeJS.WritableStream;
}

/** The config with a fresh `curve` key pair; the `clients` list, if any, is kept (client keys do not depend on the cluster's). */
function withNewClusterKeys(config: ClusterConfig, pair: { readonly publicKey: string; readonly secretKey: string }): ClusterConfig {
  const clients = config.curve?.clients;
  return { ...config, curve: { publicKey: pair.publicKey, secretKey: pair.secretKey, ...(clients === undefined ? {} : { clients }) } };
}

function keygen(args: ParsedArgs, streams: Streams): number {
  if (args.positionals.length > 1) throw new UsageError(`keygen takes no arguments, got "${args.positionals[1]}"`);
  const pair = generateCurveKeyPair();
  const outFile = args.values.get("config-out");
  if (outFile === undefined) {
    if (args.values.has("config")) throw new UsageError("--config goes with --config-out FILE (plain keygen reads no config)");
    streams.stdout.write(`${JSON.stringify({ publicKey: pair.publicKey, secretKey: pair.secretKey }, null, 2)}\n`);
    return 0;
  }
  const config = withNewClusterKeys(configFromArgs(args), pair);
  // The file must load as it is written: check it the way every program will.
  validateClusterConfig(JSON.parse(JSON.stringify(config)), outFile);
  try {
    // "wx": never overwrite (it may hold the only copy of a cluster's keys); 0600: it holds a secret key.
    writeFileSync(outFile, `${JSON.stringify(config, null, 2)}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "EEXIST" ? "it exists already, and is not overwritten (choose another name, or remove it first)" : (code ?? String(error));
    streams.stderr.write(`zraft ctl: cannot write ${outFile}: ${reason}\n`);
    return 1;
  }
  streams.stdout.write(
    [
      `wrote ${outFile}: a copy of the config with a new cluster key pair in its curve section (keep the file private)`,
      `  start the cluster:   npm start -- --config ${outFile}`,
      "  make a client key:   npm run ctl -- keygen > client-key.json",
      `  run a client:        npm run client -- --config ${outFile} --key client-key.json`,
    ].join("\n") + "\n",
  );
  return 0;
}

const commands = ["status", "leader", "timeout", "step-down", "shutdown", "transfer", "keygen"] as const;
type CtlCommand = (typeof commands)[number];
const isCommand = (name: string): name is CtlCommand => (commands as readonly string[]).includes(name);

/** How often `status --watch` redraws. */
const watchIntervalMs = 250;

/** The server a command names: its id must be one of the config's. */
function namedServer(args: ParsedArgs, config: ClusterConfig, command: string): ServerConfig {
  const [, idText, extra] = args.positionals;
  if (idText === undefined) throw new UsageError(`${command} needs a server id`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const id = Number(idText);
  const server = config.servers.find((candidate) => candidate.id === id && /^\d+$/.test(idText));
  if (server === undefined) throw new UsageError(`${command} ${idText}: the config has no such server (ids: ${config.servers.map((s) => s.id).join(", ")})`);
  return server;
}

async function status(args: ParsedArgs, config: ClusterConfig, curve: CurveClientKeys | undefined, streams: Streams): Promise<number> {
  if (args.positionals.length > 1) throw new UsageError(`status takes no arguments, got "${args.positionals[1]}"`);
  const json = args.flags.has("json");
  if (!args.flags.has("watch")) {
    const views = await surveyCluster(config, curve);
    streams.stdout.write(`${json ? JSON.stringify(statusJson(views)) : statusTable(views)}\n`);
    return views.every((view) => "status" in view) ? 0 : 1;
  }
  if (json) throw new UsageError("--watch redraws a table for a person; leave out --json");
  // Until Ctrl-C: a failover shows as it happens.
  let stopped = false;
  process.once("SIGINT", () => {
    stopped = true;
  });
  while (!stopped) {
    const views = await surveyCluster(config, curve);
    streams.stdout.write(`\x1b[H\x1b[2J${new Date().toISOString().slice(11, 19)}  (Ctrl-C to stop)\n${statusTable(views)}\n`);
    await sleep(watchIntervalMs);
  }
  return 0;
}

async function leader(args: ParsedArgs, config: ClusterConfig, curve: CurveClientKeys | undefined, streams: Streams): Promise<number> {
  if (args.positionals.length > 1) throw new UsageError(`leader takes no arguments, got "${args.positionals[1]}"`);
  const views = await surveyCluster(config, curve);
  const found = leaderOf(views);
  const up = views.filter((view) => "status" in view).length;
  if (args.flags.has("json")) streams.stdout.write(`${JSON.stringify({ leader: found, answering: up, servers: views.length })}\n`);
  else if (found !== null) {
    const endpoint = config.servers.find((server) => server.id === found.id)?.client ?? "?";
    streams.stdout.write(`server ${found.id} leads term ${found.term} (${endpoint})\n`);
  } else streams.stderr.write(`zraft ctl: no leader is known: ${up} of ${views.length} servers answer; a majority needs ${Math.floor(views.length / 2) + 1}\n`);
  return found === null ? 1 : 0;
}

async function runCtl(argv: readonly string[], streams: Streams): Promise<number> {
  try {
    const args = parseCommandLine(argv, { flags: ["help", "json", "watch"], values: ["config", "config-out", "key"] });
    if (args.flags.has("help")) {
      streams.stdout.write(`${usage}\n`);
      return 0;
    }
    const [command] = args.positionals;
    if (command === undefined) throw new UsageError("no command given");
    if (!isCommand(command)) throw new UsageError(`unknown command "${command}"; the commands are ${commands.join(", ")}`);
    if (command === "keygen") return keygen(args, streams);
    const config = configFromArgs(args);
    const curve = clientCurveKeys(args, config);
    switch (command) {
      case "status":
        return await status(args, config, curve, streams);
      case "leader":
        return await leader(args, config, curve, streams);
      case "timeout":
      case "step-down":
      case "shutdown":
      case "transfer": {
        const result = await runServerAction(command, namedServer(args, config, command), config, curve);
        if (args.flags.has("json")) streams.stdout.write(`${JSON.stringify(result.json)}\n`);
        else (result.ok ? streams.stdout : streams.stderr).write(`${result.ok ? "" : "zraft ctl: "}${result.line}\n`);
        return result.ok ? 0 : 1;
      }
      default:
        return assertNever(command, "command");
    }
  } catch (error) {
    const exitCode = reportCommandLineError("zraft ctl", error, usage, streams.stderr);
    if (exitCode !== undefined) return exitCode;
    if (error instanceof CurveUnavailableError) {
      streams.stderr.write(`zraft ctl: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

runCtl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`zraft ctl: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
