/**
 * Shows values to people in one terminal line: a value's JSON text cut to
 * a width in columns, with its size when it had to be cut, so that a 130 KB
 * value in `list` takes one line instead of flooding the terminal.
 */
import { toJsonText } from "./json-text.ts";

/**
 * The columns one code point takes in a terminal: 0 for combining marks and
 * zero-width characters, 2 for East Asian wide and fullwidth characters and
 * emoji, else 1. An approximation of Unicode's East Asian Width that covers
 * the common blocks: good enough to keep a line from wrapping.
 */
export function columnsOf(codePoint: number): number {
  if ((codePoint >= 0x300 && codePoint <= 0x36f) || (codePoint >= 0x200b && codePoint <= 0x200f) || codePoint === 0xfeff) return 0;
  const wide =
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
}

/** `text` if it fits in `columns`, else its start and "…", in `columns` at most. Reads only as much of `text` as fits. */
export function fitStart(text: string, columns: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const width = columnsOf(char.codePointAt(0) ?? 0);
    if (used + width > columns) return `${cutTo(text.slice(0, end), columns - 1)}…`;
    used += width;
    end += char.length;
  }
  return text;
}

/** `text` if it fits in `columns`, else "…" and its end, in `columns` at most. Reads only as much of `text` as fits. */
export function fitEnd(text: string, columns: number): string {
  let used = 0;
  let start = text.length;
  while (start > 0) {
    const low = text.charCodeAt(start - 1);
    const pair = low >= 0xdc00 && low <= 0xdfff && start >= 2;
    const charStart = pair ? start - 2 : start - 1;
    const width = columnsOf(text.codePointAt(charStart) ?? 0);
    if (used + width > columns - (charStart > 0 ? 1 : 0)) return `…${text.slice(start)}`;
    used += width;
    start = charStart;
  }
  return text;
}

/** The longest start of `text` (already known to fit a little more) within `columns`. */
function cutTo(text: string, columns: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += columnsOf(char.codePointAt(0) ?? 0);
    if (used > columns) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** "12 bytes", "130 KiB", "1.0 MiB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  // Compared after rounding, so that 1,048,571 bytes are "1.0 MiB", not "1024 KiB".
  if (Math.round(bytes / 1024) < 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** How big a value is to a person: the bytes of a string (UTF-8) or a binary, else of its JSON text. */
export function valueSize(value: unknown): number {
  if (typeof value === "string") return Buffer.byteLength(value, "utf8");
  if (value instanceof Uint8Array) return value.byteLength;
  return Buffer.byteLength(toJsonText(value), "utf8");
}

/** A value's JSON text within `columns`; when it had to be cut, followed by its size: `"abc…" (130 KiB)`. */
export function valuePreview(value: unknown, columns: number): string {
  const text = toJsonText(value);
  if (fitStart(text, columns) === text) return text;
  const size = ` (${formatSize(valueSize(value))})`;
  return `${fitStart(text, Math.max(2, columns - size.length))}${size}`;
}
