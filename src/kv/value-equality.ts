/**
 * When a CAS `expect` matches the stored value.
 *
 * The rule: two MessagePack values are equal when their bytes are identical,
 * or when they mean the same thing, which is decided on a canonical form:
 *   - numbers compare by value, whatever their encoding: 5 as a fixint, a
 *     uint8, an int64 or a float64 5.0 are all equal; -0.0 equals 0; NaN
 *     equals NaN (so that any value equals itself);
 *   - strings compare by their bytes (fixstr, str8, str16, str32 alike),
 *     binaries by their bytes, extension values by type and bytes;
 *     a string never equals a binary;
 *   - arrays compare element by element;
 *   - maps are equal when they hold the same (key, value) pairs in any order,
 *     keys and values compared by this same rule.
 * The canonical form is MessagePack with the smallest encodings and map
 * entries sorted by their canonical bytes; computing it costs
 * O(n log n) in the size of the value, so a hostile value cannot make a
 * comparison (which runs on every server, in the apply loop) quadratic.
 */
import { Buffer } from "node:buffer";
import { MsgpackDepthError, MsgpackFormatError, MsgpackReader, nestingDepthMax } from "../msgpack/msgpack-reader.ts";
import { MsgpackWriter } from "../msgpack/msgpack-writer.ts";
import { assertNever } from "../base/assert.ts";

/** Whether two well-formed MessagePack values are equal by the rule above. */
export function msgpackValuesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, b) || bytesEqual(canonicalForm(a), canonicalForm(b));
}

/** The canonical encoding of the single value in `bytes`. Throws MsgpackFormatError on malformed bytes. */
export function canonicalForm(bytes: Uint8Array): Uint8Array {
  const reader = new MsgpackReader(bytes, nestingDepthMax);
  const writer = new MsgpackWriter(bytes.length + 16);
  const end = writeCanonical(reader, 0, writer, 0);
  if (end !== bytes.length) throw new MsgpackFormatError(`${bytes.length - end} trailing bytes after the value`, end);
  return writer.finish();
}

const int64Min = -(1n << 63n);
const uint64Max = (1n << 64n) - 1n;

/** Writes the canonical form of the value at `offset` and returns where that value ends. */
function writeCanonical(reader: MsgpackReader, offset: number, writer: MsgpackWriter, depth: number): number {
  const head = reader.head(offset);
  switch (head.kind) {
    case "nil":
      writer.nil();
      return head.next;
    case "bool":
      writer.bool(head.value);
      return head.next;
    case "int":
      if (typeof head.value === "bigint") writer.bigint(head.value);
      else writer.number(head.value);
      return head.next;
    case "float":
      writeFloat(head.value, writer);
      return head.next;
    case "str":
      writer.strHeader(head.next - head.start).raw(reader.slice(head.start, head.next));
      return head.next;
    case "bin":
      writer.binHeader(head.next - head.start).raw(reader.slice(head.start, head.next));
      return head.next;
    case "ext":
      writer.extHeader(head.type, head.next - head.start).raw(reader.slice(head.start, head.next));
      return head.next;
    case "array": {
      checkDepth(reader, offset, depth);
      writer.arrayHeader(head.count);
      let at = head.next;
      for (let element = 0; element < head.count; element++) at = writeCanonical(reader, at, writer, depth + 1);
      return at;
    }
    case "map": {
      checkDepth(reader, offset, depth);
      // The entries are written into one scratch writer, then copied out in order.
      const scratch = new MsgpackWriter(head.next - offset + 16);
      const bounds: number[] = [0];
      let at = head.next;
      for (let entry = 0; entry < head.count; entry++) {
        at = writeCanonical(reader, at, scratch, depth + 1);
        at = writeCanonical(reader, at, scratch, depth + 1);
        bounds.push(scratch.length);
      }
      const written = scratch.finish();
      const entries = Array.from({ length: head.count }, (_, entry) =>
        written.subarray(bounds[entry] as number, bounds[entry + 1] as number),
      );
      // MessagePack values are self-delimiting, so ordering the bytes of
      // key-then-value orders by key first, then by value.
      entries.sort(Buffer.compare);
      writer.mapHeader(head.count);
      for (const entry of entries) writer.raw(entry);
      return at;
    }
    default:
      return assertNever(head, "MessagePack head");
  }
}

/** Integer-valued floats become integers (when they fit in 64 bits), so that 5.0 equals 5. */
function writeFloat(value: number, writer: MsgpackWriter): void {
  if (Number.isInteger(value)) {
    const integer = BigInt(value);
    if (integer >= int64Min && integer <= uint64Max) {
      writer.bigint(integer);
      return;
    }
  }
  writer.number(value);
}

function checkDepth(reader: MsgpackReader, offset: number, depth: number): void {
  if (depth >= reader.depthMax) throw new MsgpackDepthError(reader.depthMax, offset);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let at = 0; at < a.length; at++) if (a[at] !== b[at]) return false;
  return true;
}
