/**
 * The one-shot client (docs/protocol.md §1):
 *
 *   npm run client -- [--config F] [--key K] [--json] [--json-value] COMMAND ...
 *
 * Output: by default a line for a person on stdout; with `--json` exactly one
 * JSON object on stdout, the server's reply (see json-text.ts for values JSON
 * cannot hold: big integers as plain digits, binary as {"$binary": base64}).
 *
 * Exit codes: 0 success (`get` of an absent key included); 1 failure, with a
 * one-line error on stderr (and with `--json` the error object
 * `{"ok":false,"error":CODE,"message":...}` on stdout, CODE a protocol code,
 * or ERROR for a failure outside the protocol such as a server id not in the
 * config), and also a `cas` that
 * did not swap (as `consul kv put -cas` does, so a script can branch on it;
 * with `--json` its reply is printed as for a swap); 2 a usage or config
 * error, with usage text on stderr.
 */
import type { ClusterConfig } from "../src/config/cluster-config.ts";
import { ZraftError } from "../src/protocol/errors.ts";
import { assertNever } from "../src/base/assert.ts";
import { UsageError, type OptionSpec, type ParsedArgs } from "../src/cli/args.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import { surveyServers } from "./ctl-status.ts";
import { toJsonText } from "./json-text.ts";
import { ZraftClient, type StatusReply } from "../src/client/zraft-client.ts";

/** The options `npm run client` accepts. */
export const clientOptions: OptionSpec = { flags: ["help", "json", "json-value"], values: ["config", "limit", "key"] };

export const clientUsage = `usage: npm run client -- [options]                     the interactive client
       npm run client -- [options] put KEY VALUE
       npm run client -- [options] get KEY
       npm run client -- [options] delete KEY
       npm run client -- [options] list [PREFIX] [--limit N]
       npm run client -- [options] cas KEY EXPECTED NEW      (EXPECTED null: the key must be absent)
       npm run client -- [options] status [ID]
options:
  --config FILE  cluster configuration (default: $ZRAFT_CONFIG, else the built-in cluster)
  --key FILE     this client's CURVE key pair, needed when the config has a curve section
                 (default: $ZRAFT_CLIENT_KEY; make one with: npm run ctl -- keygen > client-key.json)
  --json         print exactly one JSON object, the reply (integers beyond 2^53 as plain digits,
                 binary as {"$binary": base64})
  --json-value   read VALUE, EXPECTED and NEW as JSON (default: as strings; with cas, EXPECTED
                 "null" means "absent" either way)
exit codes: 0 success, 1 failure (or a cas that did not swap), 2 usage or config error`;

/** Where the command writes; process.stdout and process.stderr in `npm run client`. */
export interface OutputStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** One parsed command, ready to run. */
type Command =
  | { readonly op: "put"; readonly key: string; readonly value: unknown }
  | { readonly op: "get"; readonly key: string }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "list"; readonly prefix: string | undefined; readonly limit: number | undefined }
  | { readonly op: "cas"; readonly key: string; readonly expected: unknown; readonly value: unknown }
  | { readonly op: "status"; readonly serverId: number | undefined };

const arity: Readonly<Record<string, readonly [number, number]>> = {
  put: [2, 2],
  get: [1, 1],
  delete: [1, 1],
  list: [0, 1],
  cas: [3, 3],
  status: [0, 1],
};

/** Turns the positionals into a Command. Throws UsageError. */
export function parseCommand(args: ParsedArgs): Command {
  const [name, ...operands] = args.positionals;
  if (name === undefined) throw new UsageError("no command given");
  const range = arity[name];
  if (range === undefined) throw new UsageError(`unknown command "${name}"`);
  if (operands.length < range[0] || operands.length > range[1]) {
    throw new UsageError(`${name} takes ${range[0] === range[1] ? range[0] : `${range[0]} to ${range[1]}`} argument(s), got ${operands.length}`);
  }
  if (args.values.has("limit") && name !== "list") throw new UsageError("--limit goes with list only");
  const jsonValues = args.flags.has("json-value");
  const value = (text: string, what: string): unknown => {
    if (!jsonValues) return text;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${what} is not valid JSON (--json-value): ${(error as Error).message}`);
    }
  };
  const operand = (i: number): string => operands[i] as string;
  switch (name) {
    case "put":
      return { op: "put", key: operand(0), value: value(operand(1), "VALUE") };
    case "get":
      return { op: "get", key: operand(0) };
    case "delete":
      return { op: "delete", key: operand(0) };
    case "list":
      return { op: "list", prefix: operands[0], limit: positiveInteger(args.values.get("limit"), "--limit") };
    case "cas":
      return {
        op: "cas",
        key: operand(0),
        expected: operand(1) === "null" ? null : value(operand(1), "EXPECTED"),
        value: value(operand(2), "NEW"),
      };
    default:
      return { op: "status", serverId: positiveInteger(operands[0], "ID") };
  }
}

function positiveInteger(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new UsageError(`${what} must be a positive integer, got "${text}"`);
  return Number(text);
}

/** A value for a person: strings as they are, anything else as JSON. */
function shown(value: unknown): string {
  return typeof value === "string" ? value : toJsonText(value);
}

function statusLine(status: StatusReply): string {
  const leader = status.leaderId === null ? "unknown" : `server ${status.leaderId}`;
  return (
    `server ${status.id} (pid ${status.pid}): ${status.role}, term ${status.term}, leader ${leader}, ` +
    `commit ${status.commitIndex}, applied ${status.lastApplied}, last log ${status.lastLogIndex}`
  );
}

/**
 * `status` with no id: every server of the config, one line each (like
 * `etcdctl endpoint status --cluster`); succeeds when all of them answer.
 */
async function clusterStatus(client: ZraftClient, config: ClusterConfig): Promise<{ reply: unknown; human: string; success: boolean }> {
  const answers = (await surveyServers(client, config.servers)).map((view) =>
    "status" in view ? view.status : { ok: false as const, id: view.server.id, endpoint: view.server.client, error: view.code, message: view.down },
  );
  const human = answers.map((answer) => ("pid" in answer ? statusLine(answer) : `server ${answer.id} (${answer.endpoint}): not answering`));
  return { reply: { ok: answers.every((answer) => answer.ok), servers: answers }, human: human.join("\n"), success: answers.every((answer) => answer.ok) };
}

/** The reply as JSON text and as a line for a person, and whether it counts as success. */
async function execute(client: ZraftClient, command: Command, config: ClusterConfig): Promise<{ reply: unknown; human: string; success: boolean }> {
  switch (command.op) {
    case "put": {
      const reply = await client.put(command.key, command.value);
      return { reply, human: `OK (index ${reply.index})`, success: true };
    }
    case "get": {
      const reply = await client.get(command.key);
      return { reply, human: reply.found ? shown(reply.value) : "(not found)", success: true };
    }
    case "delete": {
      const reply = await client.delete(command.key);
      return { reply, human: reply.found ? `deleted (index ${reply.index})` : `(not found, index ${reply.index})`, success: true };
    }
    case "list": {
      const reply = await client.listAll(command.prefix, command.limit === undefined ? {} : { limit: command.limit });
      const lines = reply.entries.map(([key, value]) => `${key} = ${toJsonText(value)}`);
      return { reply, human: lines.length === 0 ? "(no keys)" : lines.join("\n"), success: true };
    }
    case "cas": {
      const reply = await client.cas(command.key, command.expected, command.value);
      const human = reply.swapped
        ? `swapped (index ${reply.index})`
        : `not swapped: ${command.key} holds ${reply.value === null ? "nothing" : toJsonText(reply.value)}`;
      return { reply, human, success: reply.swapped };
    }
    case "status": {
      if (command.serverId !== undefined) {
        const reply = await client.status(command.serverId);
        return { reply, human: statusLine(reply), success: true };
      }
      return clusterStatus(client, config);
    }
    default:
      return assertNever(command, "command");
  }
}

/**
 * Runs one command against the cluster and returns the exit code. `args`
 * must have been parsed with `clientOptions` and hold a command; `curve`
 * holds the keys when the config has a curve section (client-key.ts).
 */
export async function runCommandLine(args: ParsedArgs, config: ClusterConfig, streams: OutputStreams, curve?: CurveClientKeys): Promise<number> {
  const json = args.flags.has("json");
  let command: Command;
  try {
    command = parseCommand(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    streams.stderr.write(`zraft: ${error.message}\n${clientUsage}\n`);
    return error.exitCode;
  }
  const client = new ZraftClient({ config, ...(curve === undefined ? {} : { curve }) });
  try {
    const { reply, human, success } = await execute(client, command, config);
    if (json) streams.stdout.write(`${toJsonText(reply)}\n`);
    else if (success || command.op === "status") streams.stdout.write(`${human}\n`);
    if (!success) streams.stderr.write(`zraft: ${command.op === "status" ? "not every server answered" : human}\n`);
    return success ? 0 : 1;
  } catch (error) {
    const code = error instanceof ZraftError ? error.code : "ERROR";
    // docs/protocol.md §10: a server that refuses a client's key does not answer it, so a refusal looks like a timeout.
    const hint = curve !== undefined && code === "TIMEOUT" ? " (with CURVE, a server that refuses this client's key never answers: is its public key in curve.clients?)" : "";
    const message = (error instanceof Error ? error.message : String(error)) + hint;
    if (json) streams.stdout.write(`${toJsonText({ ok: false, error: code, message })}\n`);
    streams.stderr.write(`zraft: ${code}: ${message.replace(/\s*\n\s*/g, " ")}\n`);
    return 1;
  } finally {
    client.close();
  }
}
