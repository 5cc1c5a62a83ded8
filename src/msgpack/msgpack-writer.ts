/**
 * A small MessagePack writer for the server's replies.
 *
 * Why our own: a reply must carry a client's values as the exact bytes it
 * sent (docs/protocol.md §7), spliced in as MessagePack values rather than wrapped
 * as binary. msgpackr cannot splice pre-encoded bytes, so the reply map is
 * written here, field by field.
 */

import { Buffer } from "node:buffer";

const utf8 = new TextEncoder();

/** The fixext codes by payload size. */
const fixextCodes: ReadonlyMap<number, number> = new Map([
  [1, 0xd4],
  [2, 0xd5],
  [4, 0xd6],
  [8, 0xd7],
  [16, 0xd8],
]);

/** The bits of the quiet NaN that JavaScript engines produce. */
const canonicalNaNBits = 0x7ff8_0000_0000_0000n;

/** Appends MessagePack values to a growing buffer; `finish()` returns the bytes. */
export class MsgpackWriter {
  #buffer: Uint8Array;
  /** Over #buffer, made when a value first needs it: most replies write none of the values that do. */
  #dataView: DataView | null = null;
  #length = 0;

  /**
   * The buffer comes from Node's pool of small buffers (Buffer.allocUnsafe),
   * which spares a reply an ArrayBuffer of its own to allocate and collect;
   * only written bytes are ever read or returned.
   */
  constructor(initialBytes = 256) {
    this.#buffer = Buffer.allocUnsafe(initialBytes);
  }

  nil(): this {
    this.#byte(0xc0);
    return this;
  }

  bool(value: boolean): this {
    this.#byte(value ? 0xc3 : 0xc2);
    return this;
  }

  /**
   * Writes a safe integer in its smallest integer form, and any other number
   * as a float64 (NaN always as the same bytes, so that output is
   * deterministic).
   */
  number(value: number): this {
    if (Number.isSafeInteger(value)) return this.#integer(value);
    this.#reserve(9);
    this.#buffer[this.#length] = 0xcb;
    if (Number.isNaN(value)) this.#view().setBigUint64(this.#length + 1, canonicalNaNBits);
    else this.#view().setFloat64(this.#length + 1, value);
    this.#length += 9;
    return this;
  }

  /** Writes a 64-bit integer; throws RangeError outside int64 ∪ uint64. */
  bigint(value: bigint): this {
    if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return this.#integer(Number(value));
    }
    if (value > 0n && value < 1n << 64n) {
      this.#reserve(9);
      this.#buffer[this.#length] = 0xcf;
      this.#view().setBigUint64(this.#length + 1, value);
    } else if (value < 0n && value >= -(1n << 63n)) {
      this.#reserve(9);
      this.#buffer[this.#length] = 0xd3;
      this.#view().setBigInt64(this.#length + 1, value);
    } else {
      throw new RangeError(`${value} does not fit in 64 bits`);
    }
    this.#length += 9;
    return this;
  }

  /** Writes a string as UTF-8 (str8/16/32 or fixstr). */
  str(value: string): this {
    if (value.length < 32 && this.#shortAscii(value)) return this;
    const bytes = utf8.encode(value);
    return this.strHeader(bytes.length).raw(bytes);
  }

  /**
   * Writes a string of fewer than 32 characters as a fixstr when all of them
   * are ASCII (one byte each in UTF-8), as a reply's field names and most
   * keys are: encoding them through TextEncoder cost about 1 µs each, an
   * allocation and a call into C++. Writes nothing and returns false otherwise.
   */
  #shortAscii(value: string): boolean {
    const length = value.length;
    this.#reserve(1 + length);
    const buffer = this.#buffer;
    const at = this.#length + 1;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) return false;
      buffer[at + i] = code;
    }
    buffer[at - 1] = 0xa0 | length;
    this.#length = at + length;
    return true;
  }

  /** Writes the header of a string whose `length` bytes of UTF-8 the caller writes next with `raw`. */
  strHeader(length: number): this {
    if (length < 32) return this.#byte(0xa0 | length);
    this.#header(length, 0xd9, 0xda, 0xdb);
    return this;
  }

  /** Writes the header of binary data whose `length` bytes the caller writes next with `raw`. */
  binHeader(length: number): this {
    this.#header(length, 0xc4, 0xc5, 0xc6);
    return this;
  }

  /** Writes the header of an extension value of `type` whose `length` bytes the caller writes next with `raw`. */
  extHeader(type: number, length: number): this {
    const fixed = fixextCodes.get(length);
    if (fixed !== undefined) this.#byte(fixed);
    else this.#header(length, 0xc7, 0xc8, 0xc9);
    this.#reserve(1);
    this.#view().setInt8(this.#length++, type);
    return this;
  }

  arrayHeader(count: number): this {
    if (count < 16) this.#byte(0x90 | count);
    else this.#header(count, null, 0xdc, 0xdd);
    return this;
  }

  mapHeader(count: number): this {
    if (count < 16) this.#byte(0x80 | count);
    else this.#header(count, null, 0xde, 0xdf);
    return this;
  }

  /** Splices bytes verbatim: the caller guarantees they are exactly one MessagePack value (or part of one). */
  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  /** How many bytes have been written. */
  get length(): number {
    return this.#length;
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    // A plain Uint8Array, as documented, even while the bytes sit in a pooled Buffer.
    const buffer = this.#buffer;
    return new Uint8Array(buffer.buffer, buffer.byteOffset, this.#length);
  }

  #integer(value: number): this {
    if (value >= 0 && value < 0x80) return this.#byte(value);
    if (value < 0 && value >= -32) return this.#byte(value & 0xff);
    this.#reserve(9);
    const view = this.#view();
    const at = this.#length + 1;
    let code: number;
    let size: number;
    if (value >= 0 && value <= 0xff) [code, size] = [0xcc, 1];
    else if (value >= 0 && value <= 0xffff) [code, size] = [0xcd, 2];
    else if (value >= 0 && value <= 0xffffffff) [code, size] = [0xce, 4];
    else if (value >= 0) [code, size] = [0xcf, 8];
    else if (value >= -0x80) [code, size] = [0xd0, 1];
    else if (value >= -0x8000) [code, size] = [0xd1, 2];
    else if (value >= -0x80000000) [code, size] = [0xd2, 4];
    else [code, size] = [0xd3, 8];
    this.#buffer[at - 1] = code;
    if (size === 1) view.setUint8(at, value & 0xff);
    else if (size === 2) view.setUint16(at, value & 0xffff);
    else if (size === 4) view.setUint32(at, value >>> 0);
    else view.setBigInt64(at, BigInt(value));
    this.#length += 1 + size;
    return this;
  }

  /** Writes a length header in the smallest of the 8/16/32-bit forms offered. */
  #header(length: number, code8: number | null, code16: number, code32: number): void {
    this.#reserve(5);
    const at = this.#length;
    if (code8 !== null && length <= 0xff) {
      this.#buffer[at] = code8;
      this.#buffer[at + 1] = length;
      this.#length += 2;
    } else if (length <= 0xffff) {
      this.#buffer[at] = code16;
      this.#view().setUint16(at + 1, length);
      this.#length += 3;
    } else {
      this.#buffer[at] = code32;
      this.#view().setUint32(at + 1, length);
      this.#length += 5;
    }
  }

  #byte(value: number): this {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
    return this;
  }

  #reserve(count: number): void {
    const needed = this.#length + count;
    if (needed <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
    this.#dataView = null;
  }

  #view(): DataView {
    const buffer = this.#buffer;
    return (this.#dataView ??= new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  }
}
