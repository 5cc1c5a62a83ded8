import type { Entry, EntryType, HardState, NodeId } from "../raft/index.ts";

/**
 * The layouts of the records LmdbStorage keeps, and their strict decoders.
 * Each decoder returns what it read or a string saying what is wrong, so that
 * LmdbStorage can refuse a data directory with a precise reason.
 */

/** Bumped whenever a layout below changes; a directory of another version is refused, never converted silently. */
export const storageFormatVersion = 1;

/** Written once, when a data directory is created: whose it is and how it is laid out. */
export interface MetaRecord {
  readonly formatVersion: number;
  readonly serverId: NodeId;
}

// Entry value: [type code: u8][index: u64 BE][term: u64 BE][data...]. The index is stored again in
// the value (besides the key) so that a value found under the wrong key is detected at load.
const headerBytes = 17;

// Codes are part of the on-disk format: never renumber them. A Record over the union forces a code for every new type.
const typeCodes: Readonly<Record<EntryType, number>> = { noop: 1, command: 2 };
const typesByCode: ReadonlyMap<number, EntryType> = new Map(
  (Object.entries(typeCodes) as [EntryType, number][]).map(([type, code]) => [code, type]),
);

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

// Meta and hard state are small JSON records, readable with mdb_dump when an operator must look.
function parseJsonRecord(value: unknown, what: string): Record<string, unknown> | string {
  if (!(value instanceof Uint8Array)) return `${what} is not bytes`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(textDecoder.decode(value));
  } catch {
    return `${what} is not valid JSON`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return `${what} is not a JSON object`;
  return parsed as Record<string, unknown>;
}

/** The bytes stored for one log entry. */
export function encodeEntry(entry: Entry): Uint8Array {
  const bytes = new Uint8Array(headerBytes + entry.data.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, typeCodes[entry.type]);
  view.setBigUint64(1, BigInt(entry.index));
  view.setBigUint64(9, BigInt(entry.term));
  bytes.set(entry.data, headerBytes);
  return bytes;
}

/** Reads the entry stored under `key`, checking that it is the entry for that key. */
export function decodeEntry(key: unknown, value: unknown): Entry | string {
  if (typeof key !== "number" || !Number.isSafeInteger(key) || key < 1) {
    return `log key ${JSON.stringify(key)} is not a positive integer`;
  }
  if (!(value instanceof Uint8Array) || value.length < headerBytes) return `log record ${key} is too short`;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const type = typesByCode.get(view.getUint8(0));
  if (type === undefined) return `log record ${key} has unknown type code ${view.getUint8(0)}`;
  const index = Number(view.getBigUint64(1));
  if (index !== key) return `log record under key ${key} holds index ${index}`;
  const term = Number(view.getBigUint64(9));
  if (!Number.isSafeInteger(term)) return `log record ${key} has a term beyond 2^53`;
  // A plain Uint8Array copy: LMDB hands out Buffers that may share memory with later reads.
  return { index, term, type, data: new Uint8Array(value.subarray(headerBytes)) };
}

export function encodeMeta(meta: MetaRecord): Uint8Array {
  return textEncoder.encode(JSON.stringify({ formatVersion: meta.formatVersion, serverId: meta.serverId }));
}

export function decodeMeta(value: unknown): MetaRecord | string {
  const record = parseJsonRecord(value, "meta record");
  if (typeof record === "string") return record;
  const { formatVersion, serverId } = record;
  if (typeof formatVersion !== "number") return "meta record has no format version";
  if (typeof serverId !== "number" || !Number.isSafeInteger(serverId) || serverId < 1) {
    return `meta record has invalid server id ${JSON.stringify(serverId)}`;
  }
  return { formatVersion, serverId };
}

export function encodeHardState(hardState: HardState): Uint8Array {
  const { currentTerm, votedFor, commitIndex } = hardState;
  return textEncoder.encode(JSON.stringify({ currentTerm, votedFor, commitIndex }));
}

/**
 * Reads the stored hard state. Only the shape is checked here; the values are
 * checked against the log by findHardStateProblem.
 */
export function decodeHardState(value: unknown): HardState | string {
  const record = parseJsonRecord(value, "hard state record");
  if (typeof record === "string") return record;
  const { currentTerm, votedFor, commitIndex } = record;
  if (typeof currentTerm !== "number" || typeof commitIndex !== "number") {
    return "hard state record lacks currentTerm or commitIndex";
  }
  if (votedFor !== null && typeof votedFor !== "number") return "hard state record has a votedFor that is not a number";
  return { currentTerm, votedFor, commitIndex };
}
