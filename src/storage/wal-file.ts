import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { assert } from "../base/assert.ts";
import { StorageError, describeError } from "./storage-error.ts";
import { decodeWalHeader, encodeWalHeader, readWalRecords, walHeaderBytes, walRecordHeader, walRecordHeaderBytes } from "./wal-records.ts";
import type { WalRecord } from "./wal-records.ts";

function writeAt(fd: number, data: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.write(fd, data, 0, data.length, position, (error, written) => {
      if (error !== null) reject(error);
      else if (written !== data.length) reject(shortWrite(written, data));
      else resolve();
    });
  });
}

/** writeAt on the calling thread, which waits for the disk (O_DSYNC) meanwhile. */
function writeAtInline(fd: number, data: Uint8Array, position: number): void {
  const written = fs.writeSync(fd, data, 0, data.length, position);
  if (written !== data.length) throw shortWrite(written, data);
}

function shortWrite(written: number, data: Uint8Array): Error {
  return new Error(`wrote ${written} of ${data.length} bytes`);
}

/**
 * The write-ahead log file: a preallocated file written through an O_DSYNC
 * descriptor, so that each write is on disk when it returns, with one device
 * flush and no file-size change to journal (the file never grows while
 * records fit). Its layout is wal-records.ts's.
 *
 * One write at a time (the caller's to ensure): records go one after the
 * other, and reset() starts a new generation from the file's start, which
 * makes every record before it unreadable at once.
 */
export class WalFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    private salt: Uint8Array,
    /** Where the next record goes. */
    private end: number,
    private readonly capacity: number,
  ) {}

  /**
   * Opens the log at `file`, creating it (whole, preallocated to
   * `capacityBytes`, or not at all) when it is missing, and reads the
   * records of its current generation.
   *
   * @throws StorageError when the file cannot be used or is not a log
   */
  static open(file: string, capacityBytes: number): { readonly wal: WalFile; readonly records: readonly WalRecord[] } {
    try {
      if (!fs.existsSync(file)) create(file, capacityBytes);
      const bytes = fs.readFileSync(file);
      const salt = decodeWalHeader(bytes);
      if (typeof salt === "string") throw new StorageError(file, salt);
      const read = readWalRecords(bytes, salt);
      if (typeof read === "string") throw new StorageError(file, read);
      const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_DSYNC);
      return { wal: new WalFile(file, fd, salt, read.end, bytes.length), records: read.records };
    } catch (error) {
      throw error instanceof StorageError ? error : new StorageError(file, `cannot use the write-ahead log (${describeError(error)})`, { cause: error });
    }
  }

  /** Whether records with these payloads fit after the last one. */
  fits(payloads: readonly Uint8Array[]): boolean {
    return this.end + recordsBytes(payloads) <= this.capacity;
  }

  /**
   * Writes records (their payloads, framed here) after the last one, where
   * they fit; on disk when it resolves. A write of at most `inlineBytesMax`
   * bytes runs on the calling thread, which waits for the disk, instead of
   * libuv's pool.
   */
  async append(payloads: readonly Uint8Array[], inlineBytesMax: number): Promise<void> {
    const bytes = recordsBytes(payloads);
    assert(this.end + bytes <= this.capacity, `write-ahead log: ${bytes} bytes do not fit after offset ${this.end} of ${this.capacity}`);
    const data = new Uint8Array(bytes);
    let at = 0;
    for (const payload of payloads) {
      data.set(walRecordHeader(this.salt, payload), at);
      data.set(payload, at + walRecordHeaderBytes);
      at += recordBytes(payload.length);
    }
    if (bytes <= inlineBytesMax) writeAtInline(this.fd, data, this.end);
    else await writeAt(this.fd, data, this.end);
    this.end += bytes;
  }

  /**
   * Starts a new generation: a header with a new salt, on disk when it
   * resolves. Every record written before then is unreadable from then on,
   * so the caller first makes sure they are all stored elsewhere.
   */
  async reset(): Promise<void> {
    const salt = randomBytes(8);
    await writeAt(this.fd, encodeWalHeader(salt), 0);
    this.salt = salt;
    this.end = walHeaderBytes;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function recordBytes(payloadBytes: number): number {
  return walRecordHeaderBytes + payloadBytes;
}

/** What records with these payloads take in the file, headers included. */
export function recordsBytes(payloads: readonly Uint8Array[]): number {
  let bytes = 0;
  for (const payload of payloads) bytes += recordBytes(payload.length);
  return bytes;
}

/** Writes a new log beside `file` and renames it into place, so that `file` is either whole or missing. */
function create(file: string, capacityBytes: number): void {
  const temporary = `${file}.new`;
  const fd = fs.openSync(temporary, "w");
  try {
    const zeroes = new Uint8Array(Math.min(capacityBytes, 1 << 20));
    for (let at = 0; at < capacityBytes; at += zeroes.length) fs.writeSync(fd, zeroes, 0, Math.min(zeroes.length, capacityBytes - at), at);
    fs.writeSync(fd, encodeWalHeader(randomBytes(8)), 0, walHeaderBytes, 0);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  const directory = fs.openSync(path.dirname(file), "r");
  try {
    fs.fsyncSync(directory);
  } finally {
    fs.closeSync(directory);
  }
}
