/**
 * Reads a value for `put` from standard input or a file, byte for byte, and
 * refuses locally (a usage error, exit 2) one that is too large for the
 * cluster to take, before anything is sent: a value is at most 1 MiB of
 * MessagePack (docs/protocol.md §4), and a string or binary of that size
 * spends 5 bytes of it on its header.
 */
import { open } from "node:fs/promises";
import { UsageError } from "../src/cli/args.ts";
import { valueBytesMax } from "../src/protocol/limits.ts";

/** The header of a MessagePack str32 or bin32, which every value near the limit has. */
const largeHeaderBytes = 5;

/** The most bytes a value read from a file or standard input may have. */
export const inputBytesMax = valueBytesMax - largeHeaderBytes;

/** Where a value comes from. */
export type ValueInput = { readonly kind: "stdin" } | { readonly kind: "file"; readonly path: string };

const tooLarge = (what: string, bytes: string): UsageError =>
  new UsageError(`the value from ${what} is ${bytes} bytes; a value may have at most ${inputBytesMax.toLocaleString("en")} (1 MiB of MessagePack, less its ${largeHeaderBytes}-byte header)`);

/**
 * Every byte of `input`. `stdin` is the process's standard input (a test's
 * stream in tests).
 * @throws UsageError when there are too many bytes, or the file cannot be read
 */
export async function readValueInput(input: ValueInput, stdin: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  if (input.kind === "stdin") return readCapped(stdin, "standard input");
  let file;
  try {
    file = await open(input.path, "r");
  } catch (error) {
    throw new UsageError(`--file ${input.path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    // A regular file that is too large is refused before a byte of it is read; a pipe (--file <(command)) is read up to the limit.
    const info = await file.stat();
    if (info.isFile() && info.size > inputBytesMax) throw tooLarge(input.path, info.size.toLocaleString("en"));
    return await readCapped(file.createReadStream({ autoClose: false }), input.path);
  } finally {
    await file.close();
  }
}

async function readCapped(source: AsyncIterable<Uint8Array | string>, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    total += bytes.length;
    // Stop at once: a writer with gigabytes to send need not send them all to be told.
    if (total > inputBytesMax) throw tooLarge(what, `more than ${inputBytesMax.toLocaleString("en")}`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total);
}
