import { crc32 } from "node:zlib";
import type { Entry, HardState } from "../raft/index.ts";
import { decodeEntries, encodeEntries } from "./lmdb-records.ts";

/**
 * The layout of the write-ahead log file (wal-file.ts) and its strict
 * decoders. Decoders return what they read or a string saying what is wrong.
 *
 * The file starts with a header naming its generation (a random salt); the
 * records follow it back to back:
 *   header: ["zraftwal": 8 bytes][version: u32 BE][salt: 8 bytes][crc32 of the 20 bytes before: u32 BE]
 *   record: [payload length: u32 BE][crc32 of salt then payload: u32 BE][payload]
 *   payload: [has hard state: u8], then [currentTerm, votedFor (0: none), commitIndex: u64 BE each] when it
 *            has one, then the entries as one LMDB log record (lmdb-records.ts) when there are any.
 * The salt is in every record's checksum, so a record left from an earlier
 * generation (the file is reused from its start after each checkpoint) never
 * reads as one of the current generation. The first record whose length or
 * checksum does not fit ends the log: that is where the last write was torn.
 */
export const walFormatVersion = 1;
const magic = new TextEncoder().encode("zraftwal");
export const walHeaderBytes = 24;
export const walRecordHeaderBytes = 8;
const hardStateBytes = 24;

/** One save as the log holds it. */
export interface WalRecord {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
}

export function encodeWalHeader(salt: Uint8Array): Uint8Array {
  const header = new Uint8Array(walHeaderBytes);
  const view = new DataView(header.buffer);
  header.set(magic, 0);
  view.setUint32(8, walFormatVersion);
  header.set(salt, 12);
  view.setUint32(20, crc32(header.subarray(0, 20)));
  return header;
}

/** The salt of a file's header, or what is wrong with it. */
export function decodeWalHeader(bytes: Uint8Array): Uint8Array | string {
  if (bytes.length < walHeaderBytes) return `is ${bytes.length} bytes long, shorter than its header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, walHeaderBytes);
  if (!magic.every((byte, i) => bytes[i] === byte)) return "does not start with a write-ahead log header";
  if (view.getUint32(20) !== crc32(bytes.subarray(0, 20))) return "has a header whose checksum does not match";
  const version = view.getUint32(8);
  if (version !== walFormatVersion) return `has write-ahead log format version ${version}, this build reads only version ${walFormatVersion}`;
  return bytes.slice(12, 20);
}

/** The payload of one save, framed later (walRecordHeader) with the salt of the generation it is written in. */
export function encodeWalPayload(hardState: HardState | null, entries: readonly Entry[]): Uint8Array {
  const log = entries.length === 0 ? null : encodeEntries(entries);
  const payload = new Uint8Array(1 + (hardState === null ? 0 : hardStateBytes) + (log?.length ?? 0));
  const view = new DataView(payload.buffer);
  let at = 1;
  if (hardState !== null) {
    view.setUint8(0, 1);
    view.setBigUint64(1, BigInt(hardState.currentTerm));
    view.setBigUint64(9, BigInt(hardState.votedFor ?? 0));
    view.setBigUint64(17, BigInt(hardState.commitIndex));
    at += hardStateBytes;
  }
  if (log !== null) payload.set(log, at);
  return payload;
}

/** A record's header (length and checksum), to write just before `payload`. */
export function walRecordHeader(salt: Uint8Array, payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(walRecordHeaderBytes);
  const view = new DataView(header.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, crc32(payload, crc32(salt)));
  return header;
}

/** What reading the records after the header found. */
export interface WalRead {
  readonly records: readonly WalRecord[];
  /** The offset just past the last whole record: where the next one is written. */
  readonly end: number;
}

/**
 * The records of generation `salt` in `bytes` (the whole file), from just
 * after the header to the first that is torn, of another generation or
 * not there (zeroes). A record whose checksum matches but whose payload
 * cannot be read was written wrong: that is refused (a string), not skipped.
 */
export function readWalRecords(bytes: Uint8Array, salt: Uint8Array): WalRead | string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const saltCrc = crc32(salt);
  const records: WalRecord[] = [];
  let at = walHeaderBytes;
  while (at + walRecordHeaderBytes <= bytes.length) {
    const length = view.getUint32(at);
    const end = at + walRecordHeaderBytes + length;
    if (length === 0 || end > bytes.length) break;
    const payload = bytes.subarray(at + walRecordHeaderBytes, end);
    if (crc32(payload, saltCrc) !== view.getUint32(at + 4)) break;
    const record = decodeWalPayload(payload);
    if (typeof record === "string") return `write-ahead log record at offset ${at}: ${record}`;
    records.push(record);
    at = end;
  }
  return { records, end: at };
}

function decodeWalPayload(payload: Uint8Array): WalRecord | string {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const flag = view.getUint8(0);
  if (flag > 1) return `has an unknown hard state flag ${flag}`;
  let at = 1;
  let hardState: HardState | null = null;
  if (flag === 1) {
    if (payload.length < 1 + hardStateBytes) return "ends inside its hard state";
    const [currentTerm, votedFor, commitIndex] = [1, 9, 17].map((offset) => Number(view.getBigUint64(offset))) as [number, number, number];
    if (![currentTerm, votedFor, commitIndex].every(Number.isSafeInteger)) return "has a hard state beyond 2^53";
    hardState = { currentTerm, votedFor: votedFor === 0 ? null : votedFor, commitIndex };
    at += hardStateBytes;
  }
  if (at === payload.length) return { hardState, entries: [] };
  const log = payload.subarray(at);
  if (log.length < 8) return "ends inside its entries";
  const first = Number(new DataView(log.buffer, log.byteOffset, 8).getBigUint64(0));
  const entries = decodeEntries(first, log);
  return typeof entries === "string" ? entries : { hardState, entries };
}
