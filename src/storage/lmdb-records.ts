import type { Entry, EntryType, HardState, LogPosition, NodeId, SnapshotMeta } from "../raft/index.ts";

/**
 * The layouts of the records LmdbStorage keeps, and their strict decoders.
 * Each decoder returns what it read or a string saying what is wrong, so that
 * LmdbStorage can refuse a data directory with a precise reason.
 */

/**
 * Bumped whenever a layout below changes; a directory of another version is refused, never converted silently.
 * Version 2: log records hold runs of entries instead of one each. The log start and snapshot records came
 * later without a bump: a directory without them reads as it did (no snapshot, the log from index 1), and an
 * older build refuses one with them (an unexpected record) rather than misread it.
 * Version 3: the newest saves may be only in the write-ahead log beside the environment (wal-storage.ts),
 * which a build of version 2 would not read: it must refuse the directory.
 */
export const storageFormatVersion = 3;

/**
 * A version-2 directory differs only in having no write-ahead log: it is
 * opened as it is and marked version 3 (LmdbStorage.open).
 */
export const upgradableFormatVersion = 2;

/** Written once, when a data directory is created: whose it is and how it is laid out. */
export interface MetaRecord {
  readonly formatVersion: number;
  readonly serverId: NodeId;
}

// Log record: a run of contiguous entries, under the index of the first:
//   [first index: u64 BE][count: u32 BE], then per entry [type code: u8][term: u64 BE][data length: u32 BE][data...]
// The first index is stored again in the value (besides the key) so that a value found under the wrong
// key is detected at load.
//
// Records of at least sealedRecordBytes, not one per entry, because of how LMDB writes: each transaction
// copies the leaf page it changes out of the memory map, so the leaves of small records appended save
// after save are each mapped into the process once, and its RSS would grow with the whole log. Measured
// with lmdb-js 3.5.6 on 4 KB pages, values of up to 4,096 bytes written one per transaction all end up
// mapped, larger ones (overflow pages of their own) do not: a sealed record is written once and mapped
// only when read, and the leaves hold a few bytes per record. Saves rewrite the open record until it is
// sealed; the pages it leaves are freed and reused (docs/architecture.md §2).
const recordHeaderBytes = 12;

/**
 * A record this large is sealed: saves start a new record after it rather
 * than rewrite it. Twice the size past which values stopped being mapped,
 * so that the slack of a record's last overflow page stays small.
 */
export const sealedRecordBytes = 8192;
const entryHeaderBytes = 13;

// Codes are part of the on-disk format: never renumber them. A Record over the union forces a code for every new type.
const typeCodes: Readonly<Record<EntryType, number>> = { noop: 1, command: 2, config: 3 };
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

/** The record stored for a run of entries (at least one, contiguous). */
export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  let bytes = recordHeaderBytes;
  for (const entry of entries) bytes += entryHeaderBytes + entry.data.length;
  const record = new Uint8Array(bytes);
  const view = new DataView(record.buffer);
  view.setBigUint64(0, BigInt(entries[0]!.index));
  view.setUint32(8, entries.length);
  let at = recordHeaderBytes;
  for (const entry of entries) {
    view.setUint8(at, typeCodes[entry.type]);
    view.setBigUint64(at + 1, BigInt(entry.term));
    view.setUint32(at + 9, entry.data.length);
    record.set(entry.data, at + entryHeaderBytes);
    at += entryHeaderBytes + entry.data.length;
  }
  return record;
}

/** Reads the entries of the record stored under `key`, checking that it is the record for that key. */
export function decodeEntries(key: unknown, value: unknown): Entry[] | string {
  const header = recordHeader(key, value);
  if (typeof header === "string") return header;
  const { view, count } = header;
  const record = value as Uint8Array;
  const entries: Entry[] = [];
  let at = recordHeaderBytes;
  for (let index = key as number; index < (key as number) + count; index++) {
    if (at + entryHeaderBytes > record.length) return `log record ${String(key)} ends inside entry ${index}`;
    const type = typesByCode.get(view.getUint8(at));
    if (type === undefined) return `log record ${String(key)} has unknown type code ${view.getUint8(at)} at entry ${index}`;
    const term = Number(view.getBigUint64(at + 1));
    if (!Number.isSafeInteger(term)) return `log record ${String(key)} has a term beyond 2^53 at entry ${index}`;
    const end = at + entryHeaderBytes + view.getUint32(at + 9);
    if (end > record.length) return `log record ${String(key)} ends inside entry ${index}`;
    // A plain Uint8Array copy: LMDB hands out Buffers that may share memory with later reads.
    entries.push({ index, term, type, data: new Uint8Array(record.subarray(at + entryHeaderBytes, end)) });
    at = end;
  }
  if (at !== record.length) return `log record ${String(key)} has ${record.length - at} bytes after its last entry`;
  return entries;
}

function recordHeader(key: unknown, value: unknown): { view: DataView; count: number } | string {
  if (typeof key !== "number" || !Number.isSafeInteger(key) || key < 1) {
    return `log key ${JSON.stringify(key)} is not a positive integer`;
  }
  if (!(value instanceof Uint8Array) || value.length < recordHeaderBytes) return `log record ${key} is too short`;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const first = Number(view.getBigUint64(0));
  if (first !== key) return `log record under key ${key} holds index ${first}`;
  const count = view.getUint32(8);
  if (count < 1) return `log record ${key} holds no entries`;
  if (!Number.isSafeInteger(key + count)) return `log record ${key} holds entries beyond 2^53`;
  return { view, count };
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

export function encodeLogStart(start: LogPosition): Uint8Array {
  return textEncoder.encode(JSON.stringify({ index: start.index, term: start.term }));
}

/** Reads the log start record: a position, index and term both 0 or both positive. */
export function decodeLogStart(value: unknown): LogPosition | string {
  const record = parseJsonRecord(value, "log start record");
  if (typeof record === "string") return record;
  const { index, term } = record;
  if (!isCount(index) || !isCount(term) || (index === 0) !== (term === 0)) {
    return `log start record has invalid position ${JSON.stringify({ index, term })}`;
  }
  return { index, term };
}

/** The stored snapshot's record: where it ends, and how many chunks it has (stored under their own keys). */
export interface SnapshotRecord {
  readonly meta: SnapshotMeta;
  readonly chunks: number;
}

export function encodeSnapshotRecord({ meta, chunks }: SnapshotRecord): Uint8Array {
  return textEncoder.encode(JSON.stringify({ index: meta.index, term: meta.term, chunks }));
}

export function decodeSnapshotRecord(value: unknown): SnapshotRecord | string {
  const record = parseJsonRecord(value, "snapshot record");
  if (typeof record === "string") return record;
  const { index, term, chunks } = record;
  if (!isCount(index) || !isCount(term) || index < 1 || term < 1) {
    return `snapshot record has invalid position ${JSON.stringify({ index, term })}`;
  }
  if (!isCount(chunks) || chunks < 1) return `snapshot record has invalid chunk count ${JSON.stringify(chunks)}`;
  return { meta: { index, term }, chunks };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
