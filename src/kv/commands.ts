/**
 * The commands a log entry of type "command" carries, and their encoding.
 *
 * Values travel as the raw MessagePack bytes a client sent and are stored and
 * returned exactly as sent (docs/protocol.md §7), so a command holds them as
 * Uint8Array and the log stores them as MessagePack binary.
 */
import { Packr, Unpackr } from "msgpackr";
import { AssertionError, assert, assertNever } from "../base/assert.ts";

/**
 * A write's exactly-once session: `client` names the session and `seq`
 * numbers its writes (docs/protocol.md §8). Both or neither.
 */
export type SessionFields =
  | { readonly client?: undefined; readonly seq?: undefined }
  | { readonly client: string; readonly seq: number };

export type PutCommand = { readonly op: "put"; readonly key: string; readonly value: Uint8Array } & SessionFields;

export type DeleteCommand = { readonly op: "delete"; readonly key: string } & SessionFields;

/** Stores `value` when the current value equals `expect`; `expect: null` means "the key must be absent". */
export type CasCommand = {
  readonly op: "cas";
  readonly key: string;
  readonly expect: Uint8Array | null;
  readonly value: Uint8Array;
} & SessionFields;

export type KvCommand = PutCommand | DeleteCommand | CasCommand;

// Explicit options (not msgpackr's defaults, which differ between Packr and
// the module-level functions): plain maps, no record extension, and binary
// fields copied out of the source so that a storage layer may reuse its
// read buffers.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true, int64AsType: "number" });

/** Encodes a command as a log entry's data. Throws AssertionError when the command breaks a limit (the codec lets no such command through). */
export function encodeCommand(command: KvCommand): Uint8Array {
  checkCommand(command);
  const session = command.client === undefined ? {} : { client: command.client, seq: command.seq };
  switch (command.op) {
    case "put":
      return packr.pack({ op: "put", key: command.key, value: command.value, ...session });
    case "delete":
      return packr.pack({ op: "delete", key: command.key, ...session });
    case "cas":
      return packr.pack({ op: "cas", key: command.key, expect: command.expect, value: command.value, ...session });
    default:
      return assertNever(command, "command");
  }
}

/**
 * Decodes a log entry's data. Entries are written only by leaders from
 * commands that passed the codec, so bytes that do not decode to a valid
 * command are a bug: throws AssertionError.
 */
export function decodeCommand(data: Uint8Array): KvCommand {
  let decoded: unknown;
  try {
    decoded = unpackr.unpack(data);
  } catch (error) {
    throw new AssertionError(`a log entry's command is not MessagePack: ${String(error)}`);
  }
  assert(typeof decoded === "object" && decoded !== null && !Array.isArray(decoded), "a command must be a map");
  const fields = decoded as Record<string, unknown>;
  const { op, key, client, seq } = fields;
  assert(typeof key === "string", "a command's key must be a string");
  let session: SessionFields = {};
  if (client !== undefined || seq !== undefined) {
    assert(typeof client === "string" && typeof seq === "number", "a command has both a string client and a number seq, or neither");
    session = { client, seq };
  }
  let command: KvCommand;
  switch (op) {
    case "put":
      command = { op, key, value: binary(fields.value, "value"), ...session };
      break;
    case "delete":
      command = { op, key, ...session };
      break;
    case "cas":
      command = {
        op,
        key,
        expect: fields.expect === null ? null : binary(fields.expect, "expect"),
        value: binary(fields.value, "value"),
        ...session,
      };
      break;
    default:
      throw new AssertionError(`unknown command op ${JSON.stringify(op)}`);
  }
  checkCommand(command);
  return command;
}

/** A plain Uint8Array view of a decoded binary field (msgpackr yields a Buffer, whose `slice` would not copy). */
function binary(value: unknown, field: string): Uint8Array {
  assert(value instanceof Uint8Array, `a command's ${field} must be binary`);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * What every command is, as asserted on both sides of the log. Size limits
 * are the client protocol's to enforce where requests enter; the store
 * holds whatever a leader committed.
 */
function checkCommand(command: KvCommand): void {
  assert(command.key.length >= 1, "a command's key is empty");
  if (command.client !== undefined) {
    assert(command.client.length >= 1, "a command's client id is empty");
    assert(Number.isSafeInteger(command.seq) && command.seq > 0, `a command's seq ${command.seq} is not a positive integer`);
  }
}
