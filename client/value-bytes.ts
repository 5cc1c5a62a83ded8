/**
 * How a stored value and the bytes of a file or a pipe map to each other,
 * for `put KEY -`, `put KEY --file F` and `get KEY --raw`. Bytes that are
 * valid UTF-8 are stored as a string (so that `get` shows text as text,
 * just as `put KEY VALUE` stores it), other bytes as binary; either way,
 * `get --raw` gives back exactly the bytes that were read.
 */

/** Strict: a byte sequence that is not UTF-8 throws rather than turning into U+FFFD; a BOM is kept as a character. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A string when `bytes` are valid UTF-8 (its UTF-8 encoding is exactly `bytes`), else the bytes as binary. */
export function valueOfBytes(bytes: Uint8Array): string | Buffer {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/** A stored value's exact bytes: a string's UTF-8, binary as it is; undefined for any other value (a number, a map …), which has no bytes of its own. */
export function bytesOfValue(value: unknown): Uint8Array | undefined {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return value;
  return undefined;
}
