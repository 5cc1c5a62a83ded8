/**
 * The backup file of `zraft backup` and `zraft restore` (docs/architecture.md
 * §8): a server's stored snapshot, a consistent image of the whole
 * store at one log index, with what it is and a checksum. All integers are
 * big-endian:
 *
 *   12 bytes   "zraft-backup" in ASCII
 *    2 bytes   the format version, backupFormatVersion
 *    4 bytes   H, the length of the header map
 *    H bytes   the header map, MessagePack: index, term, chunks, bytes,
 *              createdAt, server (BackupHeader)
 *   32 bytes   SHA-256 of the header map's H bytes and the chunk section
 *   the chunk section: for each of `chunks` chunks, its length (4 bytes),
 *              then its bytes (the KV store's snapshot chunks, kv-snapshot.ts)
 *
 * A file is read whole and trusted in nothing: every length is checked
 * against what is left, the checksum against the bytes, and the image
 * against the decoder a server restores it with, before anything is written.
 */
import { createHash } from "node:crypto";
import { Packr, Unpackr } from "msgpackr";
import { decodeSnapshotChunks, kvSnapshotProblem, snapshotChunkBytes } from "../kv/kv-snapshot.ts";
import { stateChunksOf, termMax, type LogIndex, type NodeId, type SnapshotMeta } from "../raft/index.ts";

export const backupMagic = "zraft-backup";
/** The layout above; a reader refuses any other. */
export const backupFormatVersion = 1;

/** What a backup holds, as its header says. */
export interface BackupHeader {
  /** The last entry the image includes. */
  readonly meta: SnapshotMeta;
  readonly chunks: number;
  /** The chunks' bytes, all together. */
  readonly bytes: number;
  /** When the backup was written, ISO 8601. */
  readonly createdAt: string;
  /** The id of the server whose snapshot it is. */
  readonly server: NodeId;
}

export interface Backup {
  readonly header: BackupHeader;
  readonly chunks: readonly Uint8Array[];
  /** What the image holds, counted when it was checked. */
  readonly keys: number;
  readonly sessions: number;
}

/** Bytes that are not a backup this module reads: the message says what is wrong, for a person. */
export class BackupFormatError extends Error {
  override readonly name = "BackupFormatError";
}

const magicBytes = new TextEncoder().encode(backupMagic);
const headerBytesMax = 4096;
/**
 * The KV store closes a chunk once it reaches snapshotChunkBytes, so an
 * honest one holds at most that and its last item (a 1 MiB value): about
 * 2 MiB. A restored chunk must travel whole in one InstallSnapshot to a
 * follower behind, whose messages are bounded (peer-codec.ts, 8 MiB).
 */
const chunkBytesMax = 4 * snapshotChunkBytes;
const headerFields = ["index", "term", "chunks", "bytes", "createdAt", "server"] as const;

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/** The file's bytes, as parts to write one after another. */
export function encodeBackup(source: Omit<BackupHeader, "chunks" | "bytes">, chunks: readonly Uint8Array[]): Uint8Array[] {
  const bytes = chunks.reduce((total, chunk) => total + chunk.length, 0);
  const { meta, createdAt, server } = source;
  const header = packr.pack({ index: meta.index, term: meta.term, chunks: chunks.length, bytes, createdAt, server });
  const frames = chunks.flatMap((chunk) => [uint32(chunk.length), chunk]);
  const hash = createHash("sha256").update(header);
  for (const frame of frames) hash.update(frame);
  const prefix = new Uint8Array(magicBytes.length + 6);
  prefix.set(magicBytes);
  new DataView(prefix.buffer).setUint16(magicBytes.length, backupFormatVersion);
  new DataView(prefix.buffer).setUint32(magicBytes.length + 2, header.length);
  return [prefix, header, hash.digest(), ...frames];
}

/**
 * Reads a whole backup file's bytes and checks everything: the magic, the
 * version, every length, the checksum and the image itself.
 * @throws BackupFormatError saying what is wrong
 */
export function decodeBackup(file: Uint8Array): Backup {
  const reader = new ByteReader(file);
  const magic = reader.bytes(magicBytes.length, "its start");
  if (!Buffer.from(magic).equals(magicBytes)) throw new BackupFormatError(`not a zraft backup: it does not start with "${backupMagic}"`);
  const version = reader.uint16("its format version");
  if (version !== backupFormatVersion) {
    throw new BackupFormatError(`format version ${version} is not one this zraft reads (it reads version ${backupFormatVersion}); restore it with the zraft that wrote it`);
  }
  const headerLength = reader.uint32("its header's length");
  if (headerLength > headerBytesMax) throw new BackupFormatError(`its header claims ${headerLength} bytes, more than a header's ${headerBytesMax}`);
  const headerBytes = reader.bytes(headerLength, "its header");
  const header = readHeader(headerBytes);
  const checksum = reader.bytes(32, "its checksum");
  const hash = createHash("sha256").update(headerBytes);
  const chunks: Uint8Array[] = [];
  for (let n = 0; n < header.chunks; n++) {
    const what = `chunk ${n} of ${header.chunks}`;
    const length = reader.uint32(`the length of ${what}`);
    if (length > chunkBytesMax) throw new BackupFormatError(`${what} claims ${length} bytes, more than a snapshot chunk's ${chunkBytesMax}`);
    const chunk = reader.bytes(length, what);
    hash.update(uint32(length)).update(chunk);
    chunks.push(chunk);
  }
  if (reader.left > 0) throw new BackupFormatError(`${reader.left} bytes follow its last chunk`);
  if (!hash.digest().equals(checksum)) throw new BackupFormatError("its checksum does not match its contents: the file is damaged");
  const bytes = chunks.reduce((total, chunk) => total + chunk.length, 0);
  if (bytes !== header.bytes) throw new BackupFormatError(`its header says ${header.bytes} bytes of chunks, but they hold ${bytes}`);
  return { header, chunks, ...imageCounts(chunks, header.meta.index) };
}

/**
 * The store's chunks of a server's stored snapshot, which is what a backup
 * holds: all but the first, the core's configuration at the snapshot
 * (snapshotImage), since a backup seeds a cluster of its own membership.
 */
export function storeChunksOf(stored: readonly Uint8Array[]): Uint8Array[] {
  return [...stateChunksOf(stored)];
}

/**
 * What the image holds, once the decoder a server restores it with accepts
 * it: a backup must never seed a cluster whose servers then refuse to start.
 * @throws BackupFormatError naming the problem
 */
export function imageCounts(chunks: readonly Uint8Array[], lastIncludedIndex: LogIndex): { readonly keys: number; readonly sessions: number } {
  const problem = kvSnapshotProblem(chunks, lastIncludedIndex);
  if (problem !== null) throw new BackupFormatError(`its image is not a store's snapshot: ${problem}`);
  const image = decodeSnapshotChunks(chunks);
  return { keys: image.entries.length, sessions: image.sessions.length };
}

function readHeader(bytes: Uint8Array): BackupHeader {
  let decoded: unknown;
  try {
    decoded = unpackr.unpack(bytes);
  } catch (error) {
    throw new BackupFormatError(`its header is not MessagePack (${(error as Error).message})`);
  }
  if (!(decoded instanceof Map)) throw new BackupFormatError("its header is not a map");
  const names = [...decoded.keys()];
  const unknown = names.find((name) => !(headerFields as readonly unknown[]).includes(name));
  if (unknown !== undefined) throw new BackupFormatError(`its header has a field ${JSON.stringify(String(unknown))} that version ${backupFormatVersion} does not`);
  const count = (name: (typeof headerFields)[number], least: number, most = Number.MAX_SAFE_INTEGER): number => {
    const value: unknown = decoded.get(name);
    if (!Number.isSafeInteger(value) || (value as number) < least || (value as number) > most) {
      throw new BackupFormatError(`its header's ${name} is ${describe(value)}, not an integer from ${least} to ${most}`);
    }
    return value as number;
  };
  const createdAt: unknown = decoded.get("createdAt");
  if (typeof createdAt !== "string" || Number.isNaN(Date.parse(createdAt))) throw new BackupFormatError(`its header's createdAt is ${describe(createdAt)}, not a time`);
  return {
    meta: { index: count("index", 1), term: count("term", 1, termMax) },
    chunks: count("chunks", 1),
    bytes: count("bytes", 0),
    createdAt,
    server: count("server", 1),
  };
}

const describe = (value: unknown): string => (value === undefined ? "missing" : typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : String(value));

function uint32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** Reads a file front to back; a read past its end says what was cut off. */
class ByteReader {
  #offset = 0;

  constructor(private readonly file: Uint8Array) {}

  get left(): number {
    return this.file.length - this.#offset;
  }

  bytes(length: number, what: string): Uint8Array {
    if (length > this.left) throw new BackupFormatError(`it is cut short: it ends ${this.left === 0 ? "before" : "within"} ${what}`);
    const slice = this.file.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }

  uint16(what: string): number {
    const bytes = this.bytes(2, what);
    return new DataView(bytes.buffer, bytes.byteOffset, 2).getUint16(0);
  }

  uint32(what: string): number {
    const bytes = this.bytes(4, what);
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  }
}
