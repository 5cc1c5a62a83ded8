/**
 * A strict reader of the MessagePack format (https://msgpack.org spec) that
 * walks bytes without building values.
 *
 * Why not just `unpack`: the server must keep a client's `value`, `expect`
 * and `rid` as the exact bytes it sent (docs/protocol.md §7), must refuse frames
 * that hold more or less than one value, and must survive hostile input: a
 * declared length past the end of the buffer is an error here, never an
 * allocation, and nesting is bounded so that recursion cannot exhaust the
 * stack.
 */

import { assertNever } from "../base/assert.ts";

/** How deeply arrays and maps may nest inside one value, by default. */
export const nestingDepthMax = 100;

/** Bytes that are not well-formed MessagePack, or exceed a reader limit. */
export class MsgpackFormatError extends Error {
  override readonly name: string = "MsgpackFormatError";
  /**
   * @param problem what is wrong, as a phrase
   * @param offset where in the buffer the problem was found
   */
  constructor(
    problem: string,
    readonly offset: number,
  ) {
    super(`${problem} (at byte ${offset})`);
  }
}

/** Bytes that nest arrays and maps deeper than a reader allows. */
export class MsgpackDepthError extends MsgpackFormatError {
  override readonly name = "MsgpackDepthError";
  constructor(
    readonly depthMax: number,
    offset: number,
  ) {
    super(`arrays and maps nest deeper than ${depthMax} levels`, offset);
  }
}

/**
 * The head of one MessagePack value at some offset. `next` is where the
 * value's own bytes end for scalars, strings, binaries and extensions (their
 * payload is `[start, next)`), and where the first element starts for arrays
 * and maps.
 */
export type MsgpackHead =
  | { readonly kind: "nil"; readonly next: number }
  | { readonly kind: "bool"; readonly value: boolean; readonly next: number }
  /** A number when it is a safe integer, else a bigint (64-bit values). */
  | { readonly kind: "int"; readonly value: number | bigint; readonly next: number }
  | { readonly kind: "float"; readonly value: number; readonly next: number }
  | { readonly kind: "str" | "bin"; readonly start: number; readonly next: number }
  | { readonly kind: "ext"; readonly type: number; readonly start: number; readonly next: number }
  | { readonly kind: "array" | "map"; readonly count: number; readonly next: number };

export type MsgpackKind = MsgpackHead["kind"];

/** Where a map's key and value lie in the buffer: `[keyStart, keyEnd)` and `[valueStart, valueEnd)`. */
export interface MapEntrySpan {
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** Decodes UTF-8 strictly: bad bytes throw instead of becoming U+FFFD, and a leading BOM is kept. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The string of `bytes`, or null when they are not valid UTF-8. */
export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

const toSafeNumber = (value: bigint): number | bigint =>
  value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;

/** Reads the MessagePack values held in one buffer. */
export class MsgpackReader {
  readonly #view: DataView;

  /**
   * @param bytes the buffer; never modified
   * @param depthMax how deeply arrays and maps may nest (a lone scalar is depth 0, `[[1]]` is depth 2)
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly depthMax: number = nestingDepthMax,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Reads the head of the value at `offset`. Throws MsgpackFormatError when it is malformed or cut short. */
  head(offset: number): MsgpackHead {
    const byte = this.#bytesAt(offset, 1);
    const view = this.#view;
    const at = offset + 1;
    if (byte <= 0x7f) return { kind: "int", value: byte, next: at };
    if (byte >= 0xe0) return { kind: "int", value: byte - 0x100, next: at };
    if (byte <= 0x8f) return this.#container("map", byte & 0x0f, at);
    if (byte <= 0x9f) return this.#container("array", byte & 0x0f, at);
    if (byte <= 0xbf) return this.#payload("str", at, byte & 0x1f);
    switch (byte) {
      case 0xc0:
        return { kind: "nil", next: at };
      case 0xc1:
        throw new MsgpackFormatError("byte 0xc1 is never used in MessagePack", offset);
      case 0xc2:
        return { kind: "bool", value: false, next: at };
      case 0xc3:
        return { kind: "bool", value: true, next: at };
      case 0xc4:
      case 0xc5:
      case 0xc6:
        return this.#payload("bin", at + lengthBytes(byte - 0xc4), this.#length(at, byte - 0xc4));
      case 0xc7:
      case 0xc8:
      case 0xc9: {
        const size = lengthBytes(byte - 0xc7);
        const length = this.#length(at, byte - 0xc7);
        const type = this.#ext(at + size);
        return { ...this.#payload("ext", at + size + 1, length), type };
      }
      case 0xca:
        this.#bytesAt(at, 4);
        return { kind: "float", value: view.getFloat32(at), next: at + 4 };
      case 0xcb:
        this.#bytesAt(at, 8);
        return { kind: "float", value: view.getFloat64(at), next: at + 8 };
      case 0xcc:
        return { kind: "int", value: this.#bytesAt(at, 1), next: at + 1 };
      case 0xcd:
        this.#bytesAt(at, 2);
        return { kind: "int", value: view.getUint16(at), next: at + 2 };
      case 0xce:
        this.#bytesAt(at, 4);
        return { kind: "int", value: view.getUint32(at), next: at + 4 };
      case 0xcf:
        this.#bytesAt(at, 8);
        return { kind: "int", value: toSafeNumber(view.getBigUint64(at)), next: at + 8 };
      case 0xd0:
        this.#bytesAt(at, 1);
        return { kind: "int", value: view.getInt8(at), next: at + 1 };
      case 0xd1:
        this.#bytesAt(at, 2);
        return { kind: "int", value: view.getInt16(at), next: at + 2 };
      case 0xd2:
        this.#bytesAt(at, 4);
        return { kind: "int", value: view.getInt32(at), next: at + 4 };
      case 0xd3:
        this.#bytesAt(at, 8);
        return { kind: "int", value: toSafeNumber(view.getBigInt64(at)), next: at + 8 };
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8: {
        const type = this.#ext(at);
        return { ...this.#payload("ext", at + 1, 1 << (byte - 0xd4)), type };
      }
      case 0xd9:
      case 0xda:
      case 0xdb:
        return this.#payload("str", at + lengthBytes(byte - 0xd9), this.#length(at, byte - 0xd9));
      case 0xdc:
      case 0xdd:
        return this.#container("array", this.#length(at, byte - 0xdb), at + lengthBytes(byte - 0xdb));
      case 0xde:
      case 0xdf:
        return this.#container("map", this.#length(at, byte - 0xdd), at + lengthBytes(byte - 0xdd));
      default:
        throw new MsgpackFormatError(`unexpected byte 0x${byte.toString(16)}`, offset);
    }
  }

  /**
   * Walks the whole value at `offset` and returns where it ends.
   * @param depth how many containers enclose the value already
   */
  valueEnd(offset: number, depth = 0): number {
    const head = this.head(offset);
    if (head.kind !== "array" && head.kind !== "map") return head.next;
    if (depth >= this.depthMax) throw new MsgpackDepthError(this.depthMax, offset);
    const items = head.kind === "map" ? head.count * 2 : head.count;
    let at = head.next;
    for (let item = 0; item < items; item++) at = this.valueEnd(at, depth + 1);
    return at;
  }

  /**
   * Checks that the buffer holds exactly one well-formed value and returns
   * its head. Throws MsgpackFormatError otherwise, trailing bytes included.
   */
  single(): MsgpackHead {
    if (this.bytes.length === 0) throw new MsgpackFormatError("no bytes", 0);
    const end = this.valueEnd(0);
    if (end !== this.bytes.length) {
      throw new MsgpackFormatError(`${this.bytes.length - end} trailing bytes after the value`, end);
    }
    return this.head(0);
  }

  /** The spans of the keys and values of the map at `offset`, in the order they appear. */
  mapEntries(offset: number, depth = 0): MapEntrySpan[] {
    const head = this.head(offset);
    if (head.kind !== "map") throw new MsgpackFormatError(`expected a map, found ${describeKind(head.kind)}`, offset);
    const entries: MapEntrySpan[] = [];
    let at = head.next;
    for (let entry = 0; entry < head.count; entry++) {
      const keyEnd = this.valueEnd(at, depth + 1);
      const valueEnd = this.valueEnd(keyEnd, depth + 1);
      entries.push({ keyStart: at, keyEnd, valueStart: keyEnd, valueEnd });
      at = valueEnd;
    }
    return entries;
  }

  /** The bytes `[start, end)`, viewed without a copy. */
  slice(start: number, end: number): Uint8Array {
    return this.bytes.subarray(start, end);
  }

  /** The bytes `[start, end)` copied into a plain Uint8Array (never a Buffer view, whose `slice` would not copy). */
  copy(start: number, end: number): Uint8Array {
    const copied = new Uint8Array(end - start);
    copied.set(this.bytes.subarray(start, end));
    return copied;
  }

  /** Returns the byte at `offset` after checking that `count` bytes are there. */
  #bytesAt(offset: number, count: number): number {
    if (offset + count > this.bytes.length) {
      throw new MsgpackFormatError(`the value is cut short: ${count} more bytes needed`, offset);
    }
    return this.bytes[offset] as number;
  }

  /** Reads a big-endian length of 1, 2 or 4 bytes (`sizeCode` 0, 1, 2). */
  #length(offset: number, sizeCode: number): number {
    const size = lengthBytes(sizeCode);
    this.#bytesAt(offset, size);
    if (size === 1) return this.#view.getUint8(offset);
    if (size === 2) return this.#view.getUint16(offset);
    return this.#view.getUint32(offset);
  }

  #ext(offset: number): number {
    this.#bytesAt(offset, 1);
    return this.#view.getInt8(offset);
  }

  #payload<K extends "str" | "bin" | "ext">(kind: K, start: number, length: number): { kind: K; start: number; next: number } {
    if (start + length > this.bytes.length) {
      throw new MsgpackFormatError(
        `${describeKind(kind)} declares ${length} bytes but only ${Math.max(0, this.bytes.length - start)} remain`,
        start,
      );
    }
    return { kind, start, next: start + length };
  }

  #container(kind: "array" | "map", count: number, next: number): MsgpackHead {
    // Every element takes at least one byte: refuse an impossible count at once.
    const bytesNeeded = kind === "map" ? count * 2 : count;
    if (next + bytesNeeded > this.bytes.length) {
      throw new MsgpackFormatError(
        `${describeKind(kind)} declares ${count} ${kind === "map" ? "entries" : "elements"} but only ${Math.max(0, this.bytes.length - next)} bytes remain`,
        next,
      );
    }
    return { kind, count, next };
  }
}

const lengthBytes = (sizeCode: number): number => 1 << sizeCode;

/** A kind as a person would name it in a message ("a string", "an array"). */
export function describeKind(kind: MsgpackKind): string {
  switch (kind) {
    case "nil":
      return "nil";
    case "bool":
      return "a boolean";
    case "int":
      return "an integer";
    case "float":
      return "a float";
    case "str":
      return "a string";
    case "bin":
      return "binary data";
    case "ext":
      return "an extension value";
    case "array":
      return "an array";
    case "map":
      return "a map";
    default:
      return assertNever(kind, "MessagePack kind");
  }
}
