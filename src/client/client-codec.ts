import { C1, Packr, Unpackr, type Options } from "msgpackr";

/**
 * The client's side of the wire format (docs/protocol.md §3, §5): a request is one
 * frame holding one MessagePack map; so is a reply.
 *
 * Replies are decoded with maps as `Map` (not msgpackr's objects, which
 * rename a `__proto__` key) and then turned into plain objects here, so that
 * values come back exactly as they were stored: a map whose keys are all
 * strings becomes an object whose own properties are defined (never
 * assigned, so a `__proto__` key stays a key and no prototype changes); a map
 * with any other key stays a `Map`. Integers beyond 2^53 are bigints, smaller
 * ones numbers. Binary values are Buffers.
 */

/** msgpackr's "auto": numbers for safe integers, bigints beyond (missing from its typings). */
const int64AsAuto = "auto" as unknown as NonNullable<Options["int64AsType"]>;

const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: int64AsAuto });

/** A decoded reply map: `ok` plus whatever fields the server sent. */
export type ReplyFields = { readonly ok: boolean } & Readonly<Record<string, unknown>>;

/** Fields whose value is the caller's own data, encoded as given. */
const dataFields: ReadonlySet<string> = new Set(["value", "expect", "rid"]);

/**
 * Encodes a request map. Fields whose value is undefined are left out.
 * msgpackr writes an integer beyond 32 bits as a float, which a server
 * refuses where the protocol wants an integer (`limit`, `seq`): those go as
 * 64-bit integers.
 */
export function encodeRequest(request: Readonly<Record<string, unknown>>): Buffer {
  const present = Object.fromEntries(
    Object.entries(request)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, !dataFields.has(name) && Number.isSafeInteger(value) && Math.abs(value as number) > 0x7fffffff ? BigInt(value as number) : value]),
  );
  return packr.pack(present);
}

/**
 * Turns maps with string keys into plain objects, without assignment (see
 * above). Throws on the byte 0xc1, which MessagePack never uses but msgpackr
 * decodes to a marker object.
 */
function fromWire(value: unknown): unknown {
  if (value === C1) throw new Error("the byte 0xc1 is not MessagePack");
  if (Array.isArray(value)) return value.map(fromWire);
  if (!(value instanceof Map)) return value;
  const entries = [...value.entries()].map(([key, item]) => [fromWire(key), fromWire(item)] as const);
  if (!entries.every(([key]) => typeof key === "string")) return new Map(entries);
  const object: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    Object.defineProperty(object, key as string, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/**
 * Decodes one reply message. Returns a sentence saying what is wrong when it
 * is not exactly one frame holding one MessagePack map with a boolean `ok`.
 */
export function decodeReply(frames: readonly Buffer[]): ReplyFields | string {
  const frame = frames[0];
  if (frames.length !== 1 || frame === undefined) return `the reply has ${frames.length} frames instead of 1`;
  let reply: unknown;
  try {
    reply = fromWire(unpackr.unpack(frame));
  } catch (error) {
    return `the reply is not MessagePack (${(error as Error).message})`;
  }
  if (typeof reply !== "object" || reply === null || Array.isArray(reply) || reply instanceof Map || Buffer.isBuffer(reply)) {
    return "the reply is not a map with string keys";
  }
  if (typeof (reply as Record<string, unknown>).ok !== "boolean") return "the reply has no boolean ok field";
  return reply as ReplyFields;
}
