/**
 * The KV store's snapshot image as bytes: its key-value pairs in key order,
 * then its sessions from least to most recently used, in MessagePack chunks
 * of about `snapshotChunkBytes` each, so that no chunk nears a message size
 * limit however large the store (Raft dissertation §5.1: the state machine
 * writes its own snapshot).
 *
 * A chunk is a map `{ values: [[key, value], ...] }`,
 * `{ sessions: [[client, lastSeq, lastIndex, lastAtMs, result], ...] }` or
 * `{ clockMs }` (the store's leader time), the last one written last.
 */
import { Packr, Unpackr } from "msgpackr";
import { packTransient } from "../msgpack/packed-bytes.ts";
import type { KvEntry } from "./kv-query.ts";
import type { KvResult } from "./kv-result.ts";
import type { SessionRecord } from "./sessions.ts";
import type { LogIndex } from "../raft/index.ts";

/**
 * About how many bytes of MessagePack one chunk holds: a chunk is closed once
 * its items reach this, so none exceeds it by more than its last item (a key
 * and a value, or a session keeping at most a value). A follower receives the
 * snapshot one chunk per message (InstallSnapshot).
 */
export const snapshotChunkBytes = 1 << 20;

/**
 * The most bytes of framing around one pair's key and value: an array
 * header, a string header and a binary header. Counted so that a store of
 * tiny pairs does not write chunks of several times snapshotChunkBytes.
 */
const pairFramingBytesMax = 1 + 5 + 5;

/**
 * The most bytes of a session row besides its client id and kept value: the
 * row's headers, three integers and the result's field names and scalars
 * come to 81 at most.
 */
const sessionFramingBytesMax = 96;

/** Snapshot bytes that are not an image this module wrote. */
export class SnapshotFormatError extends Error {
  override readonly name = "SnapshotFormatError";
}

export interface KvImage {
  readonly entries: readonly KvEntry[];
  readonly sessions: readonly (readonly [string, SessionRecord])[];
  readonly clockMs: number;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true, int64AsType: "number" });

export function* encodeSnapshotChunks({ entries, sessions, clockMs }: KvImage): Generator<Uint8Array> {
  for (const pairs of batches(entries, ([key, value]) => Buffer.byteLength(key) + value.length + pairFramingBytesMax)) {
    yield packTransient(packr, { values: pairs });
  }
  const sessionRowBytes = ([client, { lastResult }]: readonly [string, SessionRecord]): number =>
    Buffer.byteLength(client) + (lastResult.kind === "cas" ? (lastResult.value?.length ?? 0) : 0) + sessionFramingBytesMax;
  for (const slice of batches(sessions, sessionRowBytes)) {
    yield packTransient(packr, { sessions: slice.map(([client, record]) => [client, record.lastSeq, record.lastIndex, record.lastAtMs, record.lastResult]) });
  }
  yield packTransient(packr, { clockMs });
}

/** `items` in consecutive batches, each closed once its items' `bytes` reach snapshotChunkBytes. */
function* batches<T>(items: Iterable<T>, bytes: (item: T) => number): Generator<T[]> {
  let batch: T[] = [];
  let total = 0;
  for (const item of items) {
    batch.push(item);
    total += bytes(item);
    if (total >= snapshotChunkBytes) {
      yield batch;
      batch = [];
      total = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

export function decodeSnapshotChunks(chunks: Iterable<Uint8Array>): KvImage {
  const entries: KvEntry[] = [];
  const sessions: [string, SessionRecord][] = [];
  let clockMs: number | undefined;
  for (const chunk of chunks) {
    if (clockMs !== undefined) throw new SnapshotFormatError("a snapshot chunk follows the clock chunk, which is the last");
    let decoded: unknown;
    try {
      decoded = unpackr.unpack(chunk);
    } catch (error) {
      throw new SnapshotFormatError(`a snapshot chunk is not MessagePack: ${String(error)}`);
    }
    // One field: a second one would be dropped unread, and with it part of the image.
    if (!isMapOf(decoded, 1)) throw new SnapshotFormatError("a snapshot chunk is not a map of one field");
    const { values, sessions: sessionRows, clockMs: clock } = decoded;
    if (Array.isArray(values)) {
      for (const pair of values) entries.push(readPair(pair));
    } else if (Array.isArray(sessionRows)) {
      for (const row of sessionRows) sessions.push(readSession(row));
    } else if (isCount(clock)) {
      clockMs = clock;
    } else {
      throw new SnapshotFormatError("a snapshot chunk holds neither values, sessions nor the clock");
    }
  }
  if (clockMs === undefined) throw new SnapshotFormatError("the snapshot ends before its clock chunk");
  return { entries, sessions, clockMs };
}

/**
 * The image `chunks` hold as of entry `lastIncludedIndex`: one
 * decodeSnapshotChunks accepts, with no session written after that entry
 * (the store asserts that every later write of a session comes after its
 * last one). Throws SnapshotFormatError otherwise.
 */
export function decodeKvImage(chunks: Iterable<Uint8Array>, lastIncludedIndex: LogIndex): KvImage {
  const image = decodeSnapshotChunks(chunks);
  const ahead = image.sessions.find(([, record]) => record.lastIndex > lastIncludedIndex);
  if (ahead !== undefined) {
    throw new SnapshotFormatError(`session ${JSON.stringify(ahead[0])} last wrote at entry ${ahead[1].lastIndex}, after the snapshot's ${lastIncludedIndex}`);
  }
  return image;
}

/**
 * What makes `chunks` not an image of the store as of entry
 * `lastIncludedIndex` (decodeKvImage's refusal), or null. A follower checks a
 * snapshot from a leader (perhaps forged) with it before it discards its log
 * for the snapshot: an image that then failed to restore would leave it with
 * neither.
 */
export function kvSnapshotProblem(chunks: Iterable<Uint8Array>, lastIncludedIndex: LogIndex): string | null {
  try {
    decodeKvImage(chunks, lastIncludedIndex);
    return null;
  } catch (error) {
    if (error instanceof SnapshotFormatError) return error.message;
    throw error;
  }
}

function readPair(pair: unknown): KvEntry {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || !(pair[1] instanceof Uint8Array)) {
    throw new SnapshotFormatError("a snapshot pair is not [string key, binary value]");
  }
  return [pair[0], plain(pair[1])];
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** Whether `value` is a map (msgpackr gives maps as plain objects) of exactly `size` fields. */
const isMapOf = (value: unknown, size: number): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).length === size;

function readSession(row: unknown): [string, SessionRecord] {
  if (!Array.isArray(row) || row.length !== 5 || typeof row[0] !== "string" || !isCount(row[1]) || !isCount(row[2]) || !isCount(row[3])) {
    throw new SnapshotFormatError("a snapshot session is not [client, lastSeq, lastIndex, lastAtMs, result]");
  }
  return [row[0], { lastSeq: row[1], lastIndex: row[2], lastAtMs: row[3], lastResult: readResult(row[4]) }];
}

/** A session keeps only the results of writes it applied: put, delete or cas, each with its own fields only. */
function readResult(result: unknown): KvResult {
  const bytesOrNull = (value: unknown): value is Uint8Array | null => value === null || value instanceof Uint8Array;
  const index = (result as { index?: unknown } | null)?.index;
  if (isCount(index)) {
    if (isMapOf(result, 2) && result.kind === "put") return { kind: "put", index };
    if (isMapOf(result, 3) && result.kind === "delete" && typeof result.found === "boolean") return { kind: "delete", index, found: result.found };
    if (isMapOf(result, 4) && result.kind === "cas" && typeof result.swapped === "boolean" && bytesOrNull(result.value)) {
      return { kind: "cas", index, swapped: result.swapped, value: result.value === null ? null : plain(result.value) };
    }
  }
  throw new SnapshotFormatError("a snapshot session's result is malformed");
}

/** A plain Uint8Array view (msgpackr yields Buffers), so restored values compare equal to applied ones. */
const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
