/**
 * Packing with msgpackr without letting its shared buffer grow for good.
 *
 * msgpackr packs every value of the process, whichever Packr packs it, into
 * one module-level buffer, and returns a view into it. When a value does not
 * fit, the new buffer is four times the value's size or the old buffer's
 * size, whichever is larger, and never smaller after that: one 1 MiB
 * snapshot chunk or catch-up AppendEntries left every later buffer at 4 MiB
 * or more (16 MiB after a 4 MiB AppendEntries). Each is filled in turn by
 * the small messages that follow, and the views still held (a message
 * queued for sending) keep the previous one alive too: a loaded server's
 * heap snapshot held 7 MB of them (128 clients).
 *
 * So a large value is copied out into bytes of its own and msgpackr is given
 * a fresh small buffer; the large one is freed once nothing views it. Under
 * steady load this changed no peak RSS measurably (malloc kept the memory
 * either way); it bounds what one large message leaves behind.
 */
import type { Packr } from "msgpackr";

/** Packed values from this size on are copied out, and the shared buffer is replaced. */
export const largePackedBytes = 64 * 1024;

/** msgpackr's own starting size for its buffer. */
const freshBufferBytes = 8 * 1024;

/**
 * `value` packed by `packr`, as bytes that may view msgpackr's shared buffer
 * when small: for what is used at once (a message handed to a socket).
 */
export function packTransient(packr: Packr, value: unknown): Uint8Array {
  const bytes = packr.pack(value);
  return bytes.length < largePackedBytes ? bytes : detach(packr, bytes);
}

/** `value` packed by `packr`, as bytes of their own: for what is kept (a log entry). */
export function packOwned(packr: Packr, value: unknown): Uint8Array {
  const bytes = packr.pack(value);
  return bytes.length < largePackedBytes ? Uint8Array.prototype.slice.call(bytes) : detach(packr, bytes);
}

function detach(packr: Packr, bytes: Uint8Array): Uint8Array {
  const own = Uint8Array.prototype.slice.call(bytes);
  packr.useBuffer(Buffer.allocUnsafeSlow(freshBufferBytes));
  return own;
}
