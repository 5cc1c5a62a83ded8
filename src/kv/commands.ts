/**
 * The commands a log entry of type "command" carries, and their encoding.
 *
 * Values travel as the raw MessagePack bytes a client sent and are stored and
 * returned exactly as sent (docs/protocol.md §7), so a command holds them as
 * Uint8Array and the log stores them as MessagePack binary.
 */
import { Packr, Unpackr } from "msgpackr";
import { assert, assertNever } from "../base/assert.ts";
import { MsgpackFormatError, MsgpackReader, nestingDepthMax } from "../msgpack/msgpack-reader.ts";
import { packOwned } from "../msgpack/packed-bytes.ts";

/**
 * A write's exactly-once session: `client` names the session and `seq`
 * numbers its writes (docs/protocol.md §8). Both or neither.
 */
export type SessionFields =
  | { readonly client?: undefined; readonly seq?: undefined }
  | { readonly client: string; readonly seq: number };

/** What a command carries besides its operation. */
export type CommandContext = SessionFields & {
  /**
   * The proposing leader's clock (ms since the epoch): the store's only
   * notion of time, the same on every replica (sessions fall idle by it).
   */
  readonly atMs?: number;
};

export type PutCommand = { readonly op: "put"; readonly key: string; readonly value: Uint8Array } & CommandContext;

export type DeleteCommand = { readonly op: "delete"; readonly key: string } & CommandContext;

/** Stores `value` when the current value equals `expect`; `expect: null` means "the key must be absent". */
export type CasCommand = {
  readonly op: "cas";
  readonly key: string;
  readonly expect: Uint8Array | null;
  readonly value: Uint8Array;
} & CommandContext;

export type KvCommand = PutCommand | DeleteCommand | CasCommand;

// Explicit options (not msgpackr's defaults, which differ between Packr and
// the module-level functions): plain maps, no record extension, and binary
// fields copied out of the source so that a storage layer may reuse its
// read buffers.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true, int64AsType: "number" });

/**
 * Encodes a command as a log entry's data. Throws AssertionError when the
 * command breaks a limit (the codec lets no such command through). The
 * bytes are a copy of their own (packOwned): an entry kept in the log must
 * not keep msgpackr's shared buffer of up to megabytes alive.
 */
export function encodeCommand(command: KvCommand): Uint8Array {
  checkCommand(command);
  return packOwned(packr, wireCommand(command));
}

function wireCommand(command: KvCommand): Record<string, unknown> {
  const session = {
    ...(command.client === undefined ? {} : { client: command.client, seq: command.seq }),
    ...(command.atMs === undefined ? {} : { at: command.atMs }),
  };
  switch (command.op) {
    case "put":
      return { op: "put", key: command.key, value: command.value, ...session };
    case "delete":
      return { op: "delete", key: command.key, ...session };
    case "cas":
      return { op: "cas", key: command.key, expect: command.expect, value: command.value, ...session };
    default:
      return assertNever(command, "command");
  }
}

/** What decoding a log entry's data gave: a command, or why the bytes are not one. */
export type DecodedCommand = { readonly ok: true; readonly command: KvCommand } | { readonly ok: false; readonly reason: string };

/**
 * Decodes a log entry's data. An honest leader writes only commands that
 * passed the protocol's checks, but an entry may also have been forged on an
 * unauthenticated bus (docs/architecture.md §6), so bytes that are not a
 * command are reported, never thrown: the store applies them as a failed
 * no-op, the same way on every replica.
 */
export function decodeCommand(data: Uint8Array): DecodedCommand {
  let decoded: unknown;
  try {
    decoded = unpackr.unpack(data);
  } catch (error) {
    return { ok: false, reason: `not MessagePack (${error instanceof Error ? error.message : String(error)})` };
  }
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded) || decoded instanceof Uint8Array) {
    return { ok: false, reason: "not a map" };
  }
  const fields = decoded as Record<string, unknown>;
  const { op, key, client, seq, at } = fields;
  if (typeof key !== "string" || key.length === 0) return { ok: false, reason: "its key is not a non-empty string" };
  let session: SessionFields = {};
  if (client !== undefined || seq !== undefined) {
    if (typeof client !== "string" || client.length === 0 || typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) {
      return { ok: false, reason: "it needs a non-empty client and a positive seq together, or neither" };
    }
    session = { client, seq };
  }
  if (at !== undefined && (typeof at !== "number" || !Number.isSafeInteger(at) || at < 0)) return { ok: false, reason: "its time is not a non-negative integer" };
  const context: CommandContext = at === undefined ? session : { ...session, atMs: at };
  const value = binary(fields.value);
  switch (op) {
    case "put":
      return value === null ? { ok: false, reason: "a put needs a value of one well-formed MessagePack value" } : { ok: true, command: { op, key, value, ...context } };
    case "delete":
      return { ok: true, command: { op, key, ...context } };
    case "cas": {
      const expect = fields.expect === null ? null : binary(fields.expect);
      if (value === null || expect === null && fields.expect !== null) return { ok: false, reason: "a cas needs a value, and an expect or nil, each one well-formed MessagePack value" };
      return { ok: true, command: { op, key, expect, value, ...context } };
    }
    default:
      return { ok: false, reason: `unknown op ${JSON.stringify(op)?.slice(0, 40)}` };
  }
}

/**
 * A stored value: binary holding exactly one well-formed MessagePack value,
 * as the protocol let in (a forged entry may hold anything, and comparing or
 * returning such bytes must not fail later). As a plain Uint8Array view
 * (msgpackr yields a Buffer, whose `slice` would not copy); null otherwise.
 */
function binary(value: unknown): Uint8Array | null {
  if (!(value instanceof Uint8Array)) return null;
  try {
    new MsgpackReader(value, nestingDepthMax).single();
  } catch (error) {
    if (error instanceof MsgpackFormatError) return null;
    throw error;
  }
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * What every command is, asserted before it enters the log (the decoder
 * checks the same on the way out). Size limits are the client protocol's to
 * enforce where requests enter; the store holds whatever a leader committed.
 */
function checkCommand(command: KvCommand): void {
  assert(command.key.length >= 1, "a command's key is empty");
  if (command.client !== undefined) {
    assert(command.client.length >= 1, "a command's client id is empty");
    assert(Number.isSafeInteger(command.seq) && command.seq > 0, `a command's seq ${command.seq} is not a positive integer`);
  }
}
