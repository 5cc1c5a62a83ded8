/**
 * The one-shot data commands of `zraft` (docs/protocol.md §1): get, put,
 * delete, list and cas.
 *
 * Output: by default lines for a person on stdout (`get --raw`: the value's
 * exact bytes); with `--json` exactly one JSON object on stdout, the
 * server's reply (see json-text.ts for values JSON cannot hold: big
 * integers as plain digits, binary as {"$binary": base64}).
 *
 * Exit codes: 0 success; 1 failure, with one line on stderr (and with
 * `--json` the error object `{"ok":false,"error":CODE,"message":...}` on
 * stdout, CODE a protocol code, or ERROR for a failure outside the
 * protocol), and also a `get` of an absent key (as `consul kv get` does)
 * and a `cas` that did not swap (as `consul kv put -cas` does), so that a
 * script can branch on them; with `--json` their reply is still printed.
 * Usage errors are thrown as UsageError for the dispatcher (zraft.ts) to
 * report with exit code 2.
 */
import { keyBytesMax } from "../src/protocol/limits.ts";
import { assertNever } from "../src/base/assert.ts";
import { UsageError, type ParsedArgs } from "../src/cli/args.ts";
import { ZraftClient } from "../src/client/zraft-client.ts";
import type { CommandIo, Invocation } from "./command-io.ts";
import { toJsonText } from "./json-text.ts";
import { reportRequestFailure } from "./request-failure.ts";
import { startingPoint } from "./start-server.ts";
import { bytesOfValue, valueOfBytes } from "./value-bytes.ts";
import { valuePreview } from "./value-preview.ts";
import { readValueInput, type ValueInput } from "./value-input.ts";

/** `list`'s line width when stdout is not a terminal (a pipe, a file). */
const defaultLineWidth = 80;

/** However long a key, `list` shows this much of its value. */
const valueColumnsMin = 12;

/** One parsed command, ready to run. */
type DataCommand =
  | { readonly op: "put"; readonly key: string; readonly value: unknown }
  | { readonly op: "get"; readonly key: string; readonly raw: boolean }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "list"; readonly prefix: string | undefined; readonly limit: number | undefined }
  | { readonly op: "cas"; readonly key: string; readonly expected: unknown; readonly value: unknown };

/** What a command came to: the reply for --json, what a person sees, and the reason when it counts as a failure. */
interface Outcome {
  readonly reply: unknown;
  readonly output?: string | Uint8Array;
  readonly problem?: string;
}

/** A key as the protocol takes it: 1 to 1024 bytes of UTF-8 (docs/protocol.md §4). */
function checkedKey(text: string, what = "KEY"): string {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes < 1 || bytes > keyBytesMax) throw new UsageError(`${what} must be 1 to ${keyBytesMax} bytes of UTF-8, got ${bytes}`);
  return text;
}

/** An option's positive integer, at most 2^53 - 1 (what the protocol takes for a log index). */
export function positiveInteger(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`${what} must be a positive integer, got "${text}"`);
  if (!Number.isSafeInteger(Number(text))) throw new UsageError(`${what} must be at most 2^53 - 1, got ${text}`);
  return Number(text);
}

/** Text as a value: as it is, or parsed as JSON with --json-value. */
function valueOfText(text: string, args: ParsedArgs, what: string): unknown {
  if (!args.flags.has("json-value")) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON (--json-value): ${(error as Error).message}`);
  }
}

/** `put`'s value: the VALUE operand, or standard input (VALUE `-` or left out), or --file. */
async function putValue(operand: string | undefined, args: ParsedArgs, io: CommandIo): Promise<unknown> {
  const file = args.values.get("file");
  if (file !== undefined && operand !== undefined) throw new UsageError("give VALUE or --file, not both");
  if (file === undefined && operand !== undefined && operand !== "-") return valueOfText(operand, args, "VALUE");
  const input: ValueInput = file === undefined ? { kind: "stdin" } : { kind: "file", path: file };
  if (input.kind === "stdin" && io.stdin.isTTY === true) io.stderr.write(`${io.program}: reading the value from standard input; end it with Ctrl-D\n`);
  const bytes = await readValueInput(input, io.stdin);
  if (!args.flags.has("json-value")) return valueOfBytes(bytes);
  const text = valueOfBytes(bytes);
  if (typeof text !== "string") throw new UsageError("the value is not UTF-8 text, so it cannot be JSON (--json-value)");
  return valueOfText(text, args, "the value");
}

/**
 * Turns a data command's operands (already counted against its arity) and
 * options into a DataCommand, reading a value from stdin or a file.
 * @throws UsageError
 */
async function parseDataCommand(name: string, operands: readonly string[], args: ParsedArgs, io: CommandIo): Promise<DataCommand> {
  const operand = (index: number): string => operands[index] as string;
  switch (name) {
    case "put":
      return { op: "put", key: checkedKey(operand(0)), value: await putValue(operands[1], args, io) };
    case "get":
      if (args.flags.has("raw") && args.flags.has("json")) throw new UsageError("--raw and --json each say how to print the value: give one");
      return { op: "get", key: checkedKey(operand(0)), raw: args.flags.has("raw") };
    case "delete":
      return { op: "delete", key: checkedKey(operand(0)) };
    case "list":
      return { op: "list", prefix: operands[0], limit: positiveInteger(args.values.get("limit"), "--limit") };
    case "cas":
      return {
        op: "cas",
        key: checkedKey(operand(0)),
        expected: operand(1) === "null" ? null : valueOfText(operand(1), args, "EXPECTED"),
        value: valueOfText(operand(2), args, "NEW"),
      };
    default:
      throw new UsageError(`unknown data command "${name}"`);
  }
}

/** A value for a person: strings as they are, anything else as JSON. */
export function shown(value: unknown): string {
  return typeof value === "string" ? value : toJsonText(value);
}

/** What kind of value a stored value is, for a message. */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "a map";
  return `a ${typeof value === "bigint" ? "number" : typeof value}`;
}

async function execute(client: ZraftClient, command: DataCommand, lineWidth: number): Promise<Outcome> {
  switch (command.op) {
    case "put": {
      const reply = await client.put(command.key, command.value);
      return { reply, output: `OK (index ${reply.index})\n` };
    }
    case "get": {
      const reply = await client.get(command.key);
      if (!reply.found) return { reply, problem: `key ${JSON.stringify(command.key)} not found` };
      if (!command.raw) return { reply, output: `${shown(reply.value)}\n` };
      const bytes = bytesOfValue(reply.value);
      if (bytes !== undefined) return { reply, output: bytes };
      return { reply, problem: `${JSON.stringify(command.key)} holds ${kindOf(reply.value)}, which has no raw bytes (only strings and binary do): print it without --raw, or with --json` };
    }
    case "delete": {
      const reply = await client.delete(command.key);
      return { reply, output: reply.found ? `deleted (index ${reply.index})\n` : `(not found, index ${reply.index})\n` };
    }
    case "list": {
      const reply = await client.listAll(command.prefix, command.limit === undefined ? {} : { limit: command.limit });
      const lines = reply.entries.map(([key, value]) => `${key}  ${valuePreview(value, Math.max(valueColumnsMin, lineWidth - key.length - 2))}`);
      return { reply, output: `${lines.length === 0 ? "(no keys)" : lines.join("\n")}\n` };
    }
    case "cas": {
      const reply = await client.cas(command.key, command.expected, command.value);
      return reply.swapped
        ? { reply, output: `swapped (index ${reply.index})\n` }
        : { reply, problem: `not swapped: ${command.key} holds ${reply.value === null ? "nothing" : toJsonText(reply.value)}` };
    }
    default:
      return assertNever(command, "command");
  }
}

/**
 * Runs a data command against the cluster and returns the exit code.
 * @throws UsageError for bad operands or options, before anything is sent
 */
export async function runDataCommand({ name, operands, args, config, curve, io }: Invocation): Promise<number> {
  const json = args.flags.has("json");
  const command = await parseDataCommand(name, operands, args, io);
  const start = startingPoint(args, config);
  const client = new ZraftClient({ config: start.config, serverId: start.serverId, ...(curve === undefined ? {} : { curve }) });
  try {
    const lineWidth = io.stdout.isTTY === true ? (io.stdout.columns ?? defaultLineWidth) : defaultLineWidth;
    const { reply, output, problem } = await execute(client, command, lineWidth);
    if (json) io.stdout.write(`${toJsonText(reply)}\n`);
    else if (output !== undefined) io.stdout.write(output);
    if (problem !== undefined) io.stderr.write(`${io.program}: ${problem}\n`);
    return problem === undefined ? 0 : 1;
  } catch (error) {
    return reportRequestFailure(error, json, curve !== undefined, io);
  } finally {
    client.close();
  }
}
