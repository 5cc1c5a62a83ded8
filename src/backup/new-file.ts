/**
 * Writes a file that must not exist yet, so that it is either absent or
 * whole and on disk, even across a crash: its bytes go to `<path>.tmp`,
 * are fsync'd, and only then take the final name, whose directory entry is
 * fsync'd too.
 */
import { closeSync, existsSync, fsyncSync, linkSync, openSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** Why a new file could not be written: `reason` is a phrase for a person. */
export class NewFileError extends Error {
  override readonly name = "NewFileError";

  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot write ${path}: ${reason}`);
  }
}

const temporaryPathOf = (path: string): string => `${path}.tmp`;
const existsAlready = "it exists already, and is not overwritten (choose another name, or remove it first)";
// A temporary file that exists belongs to another writer, or to one that was interrupted.
const temporaryTaken = "another backup to this file is running, or one was interrupted (remove it if none runs)";

/**
 * Refuses at once what writeNewFile would refuse at the end, before the
 * work of making the bytes.
 * @throws NewFileError when `path` or its temporary file exists
 */
export function checkNewFile(path: string): void {
  if (existsSync(path)) throw new NewFileError(path, existsAlready);
  if (existsSync(temporaryPathOf(path))) throw new NewFileError(temporaryPathOf(path), temporaryTaken);
}

/**
 * Writes `parts` to a new file at `path`, readable by its owner only (a
 * backup holds every value of the store).
 * @throws NewFileError when `path` or its temporary file exists, or a write fails
 */
export function writeNewFile(path: string, parts: readonly Uint8Array[]): void {
  const temporary = temporaryPathOf(path);
  let fd: number;
  try {
    fd = openSync(temporary, "wx", 0o600);
  } catch (error) {
    throw failure(temporary, error, temporaryTaken);
  }
  try {
    try {
      for (const part of parts) {
        for (let written = 0; written < part.length; ) written += writeSync(fd, part, written);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // A link, unlike a rename, never replaces a file that appeared at `path` meanwhile.
    linkSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw failure(path, error, existsAlready);
  }
  unlinkSync(temporary);
  fsyncDirectory(dirname(path));
}

/** The new name is durable only once the directory holding it is. */
function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function failure(path: string, error: unknown, whenExisting: string): NewFileError {
  const code = (error as NodeJS.ErrnoException).code;
  return new NewFileError(path, code === "EEXIST" ? whenExisting : ((error as Error).message ?? String(error)));
}
