/**
 * The cluster commands of `zraft` (docs/protocol.md §1), which were the
 * controller's (`npm run ctl --`, now an alias of `zraft`):
 *
 *   status [ID] [--watch] [--json]  every server of the config: role, term, leader, log, pid, uptime
 *   leader [--json]                 who leads, in which term
 *   timeout N                       server N campaigns now (the seed's TIMEOUT)
 *   step-down N                     leader N becomes a follower (the seed's CONVERT_FOLLOWER)
 *   shutdown N                      server N answers what it has in flight and exits 0 (SHUTDOWN)
 *   transfer N                      the leader hands leadership to server N (dissertation §3.10)
 *   snapshot N                      server N snapshots its store now (dissertation ch. 5)
 *   members, add ID, remove ID      the configuration in force, and changes to it (ctl-members.ts)
 *   backup FILE [--server N]        a consistent backup of the store (ctl-backup.ts)
 *   keygen [--config-out FILE]      CURVE keys (docs/protocol.md §10)
 *
 * Exit codes: 0 success; 1 when the cluster refused or a server did not
 * answer (or, for keygen, the keys cannot be made or the file cannot be
 * written). Usage errors are thrown as UsageError for the dispatcher
 * (zraft.ts) to report with exit code 2.
 */
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { UsageError, configFromArgs, type ParsedArgs } from "../src/cli/args.ts";
import { validateClusterConfig, type ClusterConfig, type ServerConfig } from "../src/config/cluster-config.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import { generateCurveKeyPair } from "../src/net/curve-security.ts";
import { ZraftClient } from "../src/client/zraft-client.ts";
import type { CommandIo, Invocation } from "./command-io.ts";
import { runServerAction, type ServerAction } from "./ctl-admin.ts";
import { membershipCommands } from "./ctl-members.ts";
import { leaderOf, statusJson, statusLine, statusTable, surveyCluster } from "./ctl-status.ts";
import { toJsonText } from "./json-text.ts";
import { reportRequestFailure } from "./request-failure.ts";
import { configServer } from "./server-id.ts";

/** The config with a fresh `curve` key pair; the `clients` list, if any, is kept (client keys do not depend on the cluster's). */
function withNewClusterKeys(config: ClusterConfig, pair: { readonly publicKey: string; readonly secretKey: string }): ClusterConfig {
  const clients = config.curve?.clients;
  return { ...config, curve: { publicKey: pair.publicKey, secretKey: pair.secretKey, ...(clients === undefined ? {} : { clients }) } };
}

/** `keygen [--config-out FILE]`. */
export function keygen(args: ParsedArgs, io: CommandIo): number {
  const pair = generateCurveKeyPair();
  const outFile = args.values.get("config-out");
  if (outFile === undefined) {
    if (args.values.has("config")) throw new UsageError("--config goes with --config-out FILE (plain keygen reads no config)");
    io.stdout.write(`${JSON.stringify({ publicKey: pair.publicKey, secretKey: pair.secretKey }, null, 2)}\n`);
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
    io.stderr.write(`${io.program}: cannot write ${outFile}: ${reason}\n`);
    return 1;
  }
  io.stdout.write(
    [
      `wrote ${outFile}: a copy of the config with a new cluster key pair in its curve section (keep the file private)`,
      `  start the cluster:   npm start -- --config ${outFile}`,
      "  make a client key:   zraft keygen > client-key.json",
      `  run a client:        zraft --config ${outFile} --key client-key.json`,
    ].join("\n") + "\n",
  );
  return 0;
}

/** How often `status --watch` redraws. */
const watchIntervalMs = 250;

/** `status ID`: one server's status, asked of that server alone. */
async function serverStatus(server: ServerConfig, json: boolean, config: ClusterConfig, curve: CurveClientKeys | undefined, io: CommandIo): Promise<number> {
  const client = new ZraftClient({ config, ...(curve === undefined ? {} : { curve }) });
  try {
    const reply = await client.status(server.id);
    io.stdout.write(`${json ? toJsonText(reply) : statusLine(reply)}\n`);
    return 0;
  } catch (error) {
    return reportRequestFailure(error, json, curve !== undefined, io);
  } finally {
    client.close();
  }
}

async function status(operands: readonly string[], args: ParsedArgs, config: ClusterConfig, curve: CurveClientKeys | undefined, io: CommandIo): Promise<number> {
  const json = args.flags.has("json");
  const watch = args.flags.has("watch");
  const [idText] = operands;
  if (idText !== undefined) {
    if (watch) throw new UsageError("--watch redraws the table of every server; leave out the ID");
    return serverStatus(configServer(idText, config, "status"), json, config, curve, io);
  }
  if (!watch) {
    const views = await surveyCluster(config, curve);
    io.stdout.write(`${json ? JSON.stringify(statusJson(views)) : statusTable(views)}\n`);
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
    io.stdout.write(`\x1b[H\x1b[2J${new Date().toISOString().slice(11, 19)}  (Ctrl-C to stop)\n${statusTable(views)}\n`);
    await sleep(watchIntervalMs);
  }
  return 0;
}

async function leader(args: ParsedArgs, config: ClusterConfig, curve: CurveClientKeys | undefined, io: CommandIo): Promise<number> {
  const views = await surveyCluster(config, curve);
  const found = leaderOf(views);
  const up = views.filter((view) => "status" in view).length;
  if (args.flags.has("json")) io.stdout.write(`${JSON.stringify({ leader: found, answering: up, servers: views.length })}\n`);
  else if (found !== null) {
    const endpoint = views.find((view) => view.server.id === found.id)?.server.client ?? "?";
    io.stdout.write(`server ${found.id} leads term ${found.term} (${endpoint})\n`);
  } else io.stderr.write(`${io.program}: no leader is known: ${up} of ${views.length} servers answer; a majority needs ${Math.floor(views.length / 2) + 1}\n`);
  return found === null ? 1 : 0;
}

const serverActions = ["timeout", "step-down", "shutdown", "transfer", "snapshot"] as const satisfies readonly ServerAction[];
const isServerAction = (name: string): name is ServerAction => (serverActions as readonly string[]).includes(name);

/**
 * Runs a cluster command (keygen aside) and returns the exit code.
 * @throws UsageError for a server id not in the config, or options that do not go together
 */
export async function runClusterCommand(invocation: Invocation): Promise<number> {
  const { name, operands, args, config, curve, io } = invocation;
  if (name === "status") return status(operands, args, config, curve, io);
  if (name === "leader") return leader(args, config, curve, io);
  const membershipCommand = membershipCommands[name];
  if (membershipCommand !== undefined) return membershipCommand(invocation);
  // Loaded only when it runs: it brings the store's snapshot decoder.
  if (name === "backup") return (await import("./ctl-backup.ts")).runBackup(invocation);
  if (!isServerAction(name)) throw new UsageError(`unknown cluster command "${name}"`);
  const result = await runServerAction(name, configServer(operands[0] as string, config, name), config, curve);
  if (args.flags.has("json")) io.stdout.write(`${JSON.stringify(result.json)}\n`);
  else (result.ok ? io.stdout : io.stderr).write(`${result.ok ? "" : `${io.program}: `}${result.line}\n`);
  return result.ok ? 0 : 1;
}
