/**
 * What the interactive client makes of a typed value: text as it is, JSON
 * after "=", or the contents of a file after "@" (byte-exact: a string
 * when the file is UTF-8, else binary), checked against the protocol's
 * limit before anything is sent (docs/protocol.md §6, §7). A file is the
 * way to enter a large or binary value: the line editor is for typing.
 */
import { readFile, stat } from "node:fs/promises";
import { isUtf8 } from "node:buffer";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { valueBytesMax } from "../src/protocol/limits.ts";

/** A typed value that cannot be used, with the sentence that says why. */
export class ValueInputError extends Error {
  override readonly name = "ValueInputError";
}

/** The syntax of a typed value, for prompts and `help`. */
export const valueSyntax = 'text, "=" then JSON, or "@" then a file name';

/**
 * The value `text` stands for. Relative file names are resolved against
 * `baseDir`: npm runs the client in the project's folder, not where the
 * user typed `npm run client`.
 */
export async function typedValue(text: string, baseDir: string): Promise<unknown> {
  if (text.startsWith("@")) return fileValue(text.slice(1), baseDir);
  if (!text.startsWith("=")) return text;
  try {
    return JSON.parse(text.slice(1));
  } catch (error) {
    throw new ValueInputError(`not valid JSON after "=": ${(error as Error).message}`, { cause: error });
  }
}

/** What an editor saved, without the one line break editors add at the end of a file. */
export function editedValue(text: string): string {
  return text.replace(/\r?\n$/, "");
}

async function fileValue(name: string, baseDir: string): Promise<unknown> {
  const path = filePath(name, baseDir);
  if (path === "") throw new ValueInputError('a file name is needed after "@"');
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ValueInputError(`${path} is not a file`);
    size = info.size;
  } catch (error) {
    if (error instanceof ValueInputError) throw error;
    throw new ValueInputError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  // Checked before reading, so that a mistyped name of a huge file costs nothing.
  if (size > valueBytesMax) {
    throw new ValueInputError(`${path} holds ${size.toLocaleString("en-US")} bytes; a value is at most ${valueBytesMax.toLocaleString("en-US")} bytes (1 MiB)`);
  }
  const bytes = await readFile(path);
  const value = isUtf8(bytes) ? bytes.toString("utf8") : bytes;
  const encoded = encodedBytes(value);
  if (encoded > valueBytesMax) {
    throw new ValueInputError(
      `${path} holds ${bytes.length.toLocaleString("en-US")} bytes, which take ${encoded.toLocaleString("en-US")} bytes of MessagePack ` +
        `as ${typeof value === "string" ? "a string" : "binary"}: over the limit of ${valueBytesMax.toLocaleString("en-US")} by ${encoded - valueBytesMax}`,
    );
  }
  return value;
}

/** The path a typed file name means: quotes (as a terminal adds to a dropped file) removed, "~/" expanded. */
function filePath(name: string, baseDir: string): string {
  const unquoted = /^(["'])(.*)\1$/.exec(name.trim())?.[2] ?? name.trim();
  if (unquoted === "") return "";
  const expanded = unquoted === "~" || unquoted.startsWith("~/") ? homedir() + unquoted.slice(1) : unquoted;
  return resolve(baseDir, expanded);
}

/** The MessagePack size of a string or binary value: its bytes and the header (str 8/16/32 or fixstr; bin 8/16/32). */
function encodedBytes(value: string | Buffer): number {
  const length = typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.length;
  const header = typeof value === "string" && length <= 31 ? 1 : length <= 0xff ? 2 : length <= 0xffff ? 3 : 5;
  return header + length;
}
